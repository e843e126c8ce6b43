// inventory, cartridges, tape images, reset and snapshots: the library lifecycle of the
// management API (library/lifecycle.cpp does the work).
#include <fmt/format.h>

#include <filesystem>

#include "control/lookup.h"
#include "control/methods.h"
#include "storage/tape_image.h"

namespace vtl::control {

namespace {

void refused(const std::optional<std::string>& why) {
    if (why) throw ControlError(code::kRefused, *why);
}

std::filesystem::path file_param(const nlohmann::json& p) {
    std::filesystem::path file = param::string(p, "file");
    if (!file.is_absolute()) throw ControlError(code::kBadParams, "parameter \"file\": expected an absolute path");
    return file;
}

storage::ImageFormat format_param(const nlohmann::json& p, const std::filesystem::path& file) {
    if (auto f = param::opt_string(p, "format")) {
        if (*f == "simh" || *f == "tap") return storage::ImageFormat::Simh;
        if (*f == "aws") return storage::ImageFormat::Aws;
        throw ControlError(code::kBadParams, "parameter \"format\": expected \"simh\" or \"aws\"");
    }
    if (auto f = storage::image_format_from_path(file)) return *f;
    throw ControlError(code::kBadParams, fmt::format("{}: name it .tap or .aws, or give \"format\"", file.string()));
}

library::Library::Placement placement(library::Library& lib, const nlohmann::json& p) {
    auto slot = param::opt_unsigned(p, "slot");
    auto ie = param::opt_unsigned(p, "ie");
    if (slot && ie) throw ControlError(code::kBadParams, "give at most one of \"slot\" and \"ie\"");
    using Kind = library::Library::Placement::Kind;
    if (slot) return {Kind::Slot, static_cast<uint32_t>(*slot)};
    if (ie) return {Kind::ImportExport, static_cast<uint32_t>(*ie)};  // from 0, as insert
    if (param::boolean(p, "shelf", false)) return {Kind::Shelf, 0};
    // The first empty storage slot nobody is moving a cartridge into.
    for (const smc::Element* e : lib.inventory().of_type(smc::ElementType::Storage)) {
        if (!e->full()) return {Kind::Slot, e->index + 1};
    }
    throw ControlError(code::kRefused, fmt::format("{} has no empty storage slot", lib.name()));
}

}  // namespace

void register_lifecycle_methods(Methods& m) {
    m.add("inventory", "every element and cartridge of a library: {library}",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {"library"});
              return library_param(ctx, p).inventory_json();
          });
    m.add("inventory.picture", "the library drawn as text: {library}", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {"library"});
        return nlohmann::json(library_param(ctx, p).inventory_picture());
    });
    m.add("cartridge.create",
          "a new blank cartridge: {library, barcode, slot | ie | shelf: true (default: the first empty slot), "
          "type, generation, capacity, write_protected}",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {"library", "barcode", "slot", "ie", "shelf", "type", "generation", "capacity",
                              "write_protected"});
              auto& lib = library_param(ctx, p);
              const std::string barcode = param::string(p, "barcode");
              library::Library::NewCartridge options;
              if (auto t = param::opt_string(p, "type")) {
                  options.type = config::media_type_from_string(*t);
                  if (!options.type)
                      throw ControlError(code::kBadParams, "parameter \"type\": data, cleaning, worm or diagnostic");
              }
              if (auto g = param::opt_unsigned(p, "generation")) options.generation = static_cast<int>(*g);
              options.capacity = param::opt_unsigned(p, "capacity");
              options.write_protected = param::boolean(p, "write_protected", false);
              refused(lib.create_cartridge(barcode, placement(lib, p), options));
              nlohmann::json out = {{"library", lib.name()}, {"barcode", barcode}};
              if (auto where = lib.inventory().find(barcode)) out["element"] = element_json(lib, *where);
              return out;
          });
    m.add("cartridge.delete", "take a cartridge out of the library and delete its data: {library, barcode}",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {"library", "barcode"});
              auto& lib = library_param(ctx, p);
              const std::string barcode = param::string(p, "barcode");
              refused(lib.delete_cartridge(barcode));
              return nlohmann::json{{"library", lib.name()}, {"deleted", barcode}};
          });
    // Import and export take the same parameters and answer alike; only the direction differs.
    auto image = [](bool import) {
        return [import](Context& ctx, const nlohmann::json& p) {
            param::only(p, {"library", "barcode", "file", "format"});
            auto& lib = library_param(ctx, p);
            const auto file = file_param(p);
            const auto format = format_param(p, file);
            const std::string barcode = param::string(p, "barcode");
            refused(import ? lib.import_image(file, format, barcode) : lib.export_image(barcode, file, format));
            return nlohmann::json{{"library", lib.name()},
                                  {"barcode", barcode},
                                  {"file", file.string()},
                                  {"format", format == storage::ImageFormat::Simh ? "simh" : "aws"}};
        };
    };
    m.add("image.import", "fill a cartridge from a tape image file: {library, barcode, file, format?}", image(true));
    m.add("image.export", "write a cartridge to a tape image file: {library, barcode, file, format?}", image(false));
    m.add("reset", "back to the configured inventory: {library}", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {"library"});
        auto& lib = library_param(ctx, p);
        refused(lib.reset());
        return nlohmann::json{{"library", lib.name()}, {"reset", true}};
    });
    m.add("snapshot", "save the library and its cartridges: {library, name}",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {"library", "name"});
              auto& lib = library_param(ctx, p);
              const std::string name = param::string(p, "name");
              refused(lib.snapshot(name));
              return nlohmann::json{{"library", lib.name()}, {"snapshot", name}};
          });
    m.add("restore", "bring the library back to a snapshot: {library, name}",
          [](Context& ctx, const nlohmann::json& p) {
              param::only(p, {"library", "name"});
              auto& lib = library_param(ctx, p);
              const std::string name = param::string(p, "name");
              refused(lib.restore(name));
              return nlohmann::json{{"library", lib.name()}, {"restored", name}};
          });
    m.add("snapshot.delete", "delete a snapshot: {library, name}", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {"library", "name"});
        auto& lib = library_param(ctx, p);
        const std::string name = param::string(p, "name");
        refused(lib.delete_snapshot(name));
        return nlohmann::json{{"library", lib.name()}, {"deleted", name}};
    });
    m.add("snapshots", "a library's snapshots: {library}", [](Context& ctx, const nlohmann::json& p) {
        param::only(p, {"library"});
        auto& lib = library_param(ctx, p);
        nlohmann::json out = nlohmann::json::array();
        for (const auto& s : lib.list_snapshots()) out.push_back({{"name", s.name}, {"cartridges", s.cartridges}});
        return out;
    });
}

}  // namespace vtl::control
