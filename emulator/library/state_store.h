// A library's inventory on stable storage: a snapshot file plus an append-only journal of the
// operations completed since. After kill -9 (or power loss) at any instant, opening the store
// again yields the inventory as of the last operation whose commit() returned.
//
//   <state_dir>/inventory.json  {"format":1,"library":..,"seq":N,"inventory":{..}}; replaced
//                               atomically: write a temp file, fsync, rename, fsync the directory
//   <state_dir>/journal         records: u32 length (LE), u32 CRC32C of the payload (LE), payload
//                               {"seq":N,"changes":[..]} (library/changes.h); fdatasync'd each
//
// A library's state beside the inventory (asynchronous move results, library/async_moves.h) rides
// in the same files: its snapshot under the section's key, its records in a record's array of
// that key. Files written before a section existed simply lack the keys, and load as empty.
//
// A record whose seq the snapshot already includes is skipped (a crash between writing the
// snapshot and emptying the journal); a torn or corrupt tail is dropped (and cut off the file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include <nlohmann/json_fwd.hpp>
#include <spdlog/fwd.h>

#include "smc/inventory.h"

namespace vtl::library {

class StateSection {
public:
    virtual ~StateSection() = default;
    virtual const char* key() const = 0;
    // Its persistent state, as of the last record it journaled.
    virtual nlohmann::json snapshot() const = 0;
    virtual void restore(const nlohmann::json& section) = 0;
    virtual void apply(const nlohmann::json& record) = 0;  // throws std::runtime_error when it does not fit
};

class StateStore {
public:
    static constexpr int kFormat = 1;
    static constexpr const char* kSnapshotName = "inventory.json";
    static constexpr const char* kJournalName = "journal";

    struct Options {
        size_t compact_after = 1000;  // journal records before the snapshot is rewritten
    };

    // Opens `dir` (created if missing) and brings `live` to the saved state: snapshot, then the
    // journal. With no saved state, writes the first snapshot from `live` as the config built it.
    // Throws std::runtime_error naming the file and what is wrong (unreadable, another format,
    // another library, a layout that no longer matches the config); never drops cartridges.
    // `section`, if any, is restored along with the inventory and outlives the store.
    StateStore(std::filesystem::path dir, std::string library, smc::Inventory& live, Options options,
               spdlog::logger& log, StateSection* section = nullptr);
    // Clean shutdown: compacts.
    ~StateStore();
    StateStore(const StateStore&) = delete;
    StateStore& operator=(const StateStore&) = delete;

    // Journals one completed operation (an array of changes) and returns once it is on stable
    // storage; throws std::system_error when it cannot be. Compacts when the journal is long.
    void commit(const nlohmann::json& changes);
    // The same with records of the section in the same journal record (atomically).
    void commit(const nlohmann::json& changes, const nlohmann::json& section_records);
    // Rewrites the snapshot from the committed state and empties the journal.
    void compact();
    // Replaces the committed state as a whole (library reset, snapshot restore): the snapshot is
    // rewritten from `state` and the journal emptied.
    void replace(const smc::Inventory& state);

    uint64_t sequence() const { return seq_; }
    size_t journal_records() const { return records_; }
    const std::filesystem::path& dir() const { return dir_; }
    // The committed state (the live inventory minus operations still in motion).
    const smc::Inventory& committed() const { return *durable_; }

private:
    void load(smc::Inventory& live);
    void replay(smc::Inventory& live);
    void write_snapshot();

    std::filesystem::path dir_;
    std::filesystem::path snapshot_;
    std::filesystem::path journal_;
    std::string library_;
    Options options_;
    spdlog::logger& log_;
    StateSection* section_ = nullptr;
    int journal_fd_ = -1;
    uint64_t seq_ = 0;
    size_t records_ = 0;
    std::unique_ptr<smc::Inventory> durable_;
};

}  // namespace vtl::library
