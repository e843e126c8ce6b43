// The cartridge store of one library: <state_dir>/cartridges/<BARCODE>/ per cartridge. It
// validates barcodes (config::barcode_error) and checks that every cartridge directory
// resolves inside the store, creates cartridges atomically (a temporary directory renamed into
// place), locks each open cartridge (flock on its directory, so neither a second drive nor a
// second process can open it), and imports and exports tape images.
//
// Thread-safe; the Cartridge objects it returns are used by one thread at a time.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/cartridge.h"
#include "storage/tape_image.h"

namespace vtl::storage {

struct StoreOptions {
    uint64_t default_capacity = 0;  // bytes for new cartridges; 0: native capacity of the barcode's generation
    CartridgeOptions cartridge;     // for every cartridge opened
};

struct OpenOptions {
    bool create = true;            // create an empty cartridge when there is none
    std::optional<Layout> layout;  // for a created one (default: one partition of the default capacity)
};

// Native (uncompressed) capacity of an LTO cartridge from its barcode: LTO-5 1.5 TB .. LTO-9
// 18 TB, Type M 9 TB; `fallback` when the barcode does not say.
uint64_t native_capacity(std::string_view barcode, uint64_t fallback);

class Store {
public:
    static constexpr const char* kCartridgesDir = "cartridges";

    // Opens (creating if needed) <state_dir>/cartridges and removes temporary directories left
    // by creations and imports a crash interrupted.
    static Result<std::unique_ptr<Store>> open(const std::filesystem::path& state_dir, StoreOptions options = {});

    const std::filesystem::path& directory() const { return cartridges_path_; }
    const StoreOptions& options() const { return options_; }

    // Opens a cartridge for a drive. A damaged cartridge opens fenced (see Cartridge::fence).
    Result<std::unique_ptr<Cartridge>> open_cartridge(std::string_view barcode, const OpenOptions& options = {});
    Result<void> create(std::string_view barcode, const Layout& layout);
    bool exists(std::string_view barcode) const;
    std::vector<std::string> list() const;
    // Removes a cartridge's persisted fence after an operator has repaired or accepted it.
    Result<void> clear_fence(std::string_view barcode);
    // The layout a new cartridge gets: one partition of the default capacity.
    Layout default_layout(std::string_view barcode) const;

    // Creates cartridge `barcode` from a tape image (one partition); nothing is created when the
    // image is malformed (BadImage with the offset and what was expected) or does not fit.
    Result<void> import_image(std::string_view barcode, const std::filesystem::path& image, ImageFormat format,
                              std::optional<Layout> layout = {});
    // Writes one partition of a cartridge that no drive holds to `image` (atomically replaced).
    Result<void> export_image(std::string_view barcode, const std::filesystem::path& image, ImageFormat format,
                              uint8_t partition = 0);

private:
    Store() = default;
    Result<void> check_barcode(std::string_view barcode) const;
    Result<Fd> open_cartridge_dir(std::string_view barcode) const;
    // Writes a new cartridge in a temporary directory; returns its name, for renaming into place.
    Result<std::string> build(std::string_view barcode, const Layout& layout);
    Result<void> publish(const std::string& temporary, std::string_view barcode);

    std::filesystem::path cartridges_path_;
    std::filesystem::path canonical_path_;
    StoreOptions options_;
    Fd cartridges_;
    std::mutex mutex_;  // temporary directory names
    uint64_t temporaries_ = 0;
};

}  // namespace vtl::storage
