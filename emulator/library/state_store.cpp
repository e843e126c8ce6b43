#include "library/state_store.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "library/changes.h"
#include "storage/byte_order.h"
#include "storage/crc32c.h"

namespace vtl::library {

namespace {

constexpr size_t kRecordHeader = 8;
constexpr uint32_t kMaxRecord = 64u << 20;  // a length beyond this is garbage, not a record


std::system_error os_error(const std::string& what) { return std::system_error(errno, std::generic_category(), what); }

void write_all(int fd, const void* data, size_t size, const std::filesystem::path& path) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw os_error(fmt::format("{}: write", path.string()));
        }
        p += n;
        size -= static_cast<size_t>(n);
    }
}

void fsync_dir(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw os_error(fmt::format("{}: open directory", dir.string()));
    const int rc = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    if (rc != 0) {
        errno = saved;
        throw os_error(fmt::format("{}: fsync directory", dir.string()));
    }
}

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}



}  // namespace


StateStore::StateStore(std::filesystem::path dir, std::string library, smc::Inventory& live, Options options,
                       spdlog::logger& log, StateSection* section)
    : dir_(std::move(dir)),
      snapshot_(dir_ / kSnapshotName),
      journal_(dir_ / kJournalName),
      library_(std::move(library)),
      options_(options),
      log_(log),
      section_(section) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) throw std::runtime_error(fmt::format("state directory {}: cannot create it: {}", dir_.string(), ec.message()));
    if (!std::filesystem::is_directory(dir_, ec)) {
        throw std::runtime_error(fmt::format("state directory {}: not a directory", dir_.string()));
    }
    load(live);
    durable_ = std::make_unique<smc::Inventory>(live);
    journal_fd_ = ::open(journal_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (journal_fd_ < 0) {
        throw std::runtime_error(fmt::format("{}: cannot open for writing: {}", journal_.string(), std::strerror(errno)));
    }
    if (!std::filesystem::exists(snapshot_)) {
        write_snapshot();  // the first start: the config's inventory becomes the saved state
        log_.info("[{}] state directory {} initialised from the config", library_, dir_.string());
    }
}

StateStore::~StateStore() {
    try {
        if (records_ > 0) compact();
    } catch (const std::exception& e) {
        log_.error("[{}] compacting the state at shutdown failed: {} (the journal still holds every change)", library_,
                   e.what());
    }
    if (journal_fd_ >= 0) ::close(journal_fd_);
}

void StateStore::load(smc::Inventory& live) {
    std::filesystem::remove(dir_ / (std::string(kSnapshotName) + ".tmp"));  // an interrupted compaction
    if (!std::filesystem::exists(snapshot_)) {
        std::error_code ec;
        if (std::filesystem::exists(journal_) && std::filesystem::file_size(journal_, ec) > 0) {
            throw std::runtime_error(fmt::format(
                "{} holds journal records but {} is missing; refusing to start from the config, which would lose "
                "them (restore the snapshot, or move the state directory away to start afresh)",
                journal_.string(), snapshot_.string()));
        }
        return;
    }
    const auto bytes = read_file(snapshot_);
    nlohmann::json snap = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (snap.is_discarded() || !snap.is_object()) {
        throw std::runtime_error(fmt::format("{}: not a JSON snapshot (damaged?)", snapshot_.string()));
    }
    const int format = snap.value("format", 0);
    if (format != kFormat) {
        throw std::runtime_error(fmt::format("{}: snapshot format {}; this vtld reads format {}", snapshot_.string(),
                                             format, kFormat));
    }
    const std::string owner = snap.value("library", std::string());
    if (owner != library_) {
        throw std::runtime_error(fmt::format("{}: holds the state of library \"{}\", not \"{}\"", snapshot_.string(),
                                             owner, library_));
    }
    try {
        live.from_json(snap.at("inventory"));
        seq_ = snap.at("seq").get<uint64_t>();
        if (section_ && snap.contains(section_->key())) section_->restore(snap.at(section_->key()));
    } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format(
            "{}: the saved state does not fit the config: {}; refusing to start rather than drop cartridges "
            "(restore the config's layout, or move the state directory away to start from the config)",
            snapshot_.string(), e.what()));
    }
    replay(live);
}

void StateStore::replay(smc::Inventory& live) {
    if (!std::filesystem::exists(journal_)) return;
    const auto bytes = read_file(journal_);
    size_t pos = 0;
    size_t applied = 0;
    while (pos + kRecordHeader <= bytes.size()) {
        const uint32_t length = storage::get_le32(&bytes[pos]);
        const uint32_t crc = storage::get_le32(&bytes[pos + 4]);
        if (length > kMaxRecord || pos + kRecordHeader + length > bytes.size()) break;
        const std::span<const uint8_t> payload(&bytes[pos + kRecordHeader], length);
        if (storage::crc32c(payload) != crc) break;
        const auto record = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
        if (record.is_discarded() || !record.is_object() || !record.contains("seq")) break;
        const auto seq = record["seq"].get<uint64_t>();
        if (seq > seq_) {
            // A record that checks out but does not apply means the journal and snapshot disagree:
            // stop rather than guess.
            try {
                for (const auto& c : record.at("changes")) change::apply(live, c);
                if (section_ && record.contains(section_->key())) {
                    for (const auto& r : record.at(section_->key())) section_->apply(r);
                }
            } catch (const std::exception& e) {
                throw std::runtime_error(fmt::format("{}: record {} (byte {}) does not apply to the saved state: {}",
                                                     journal_.string(), seq, pos, e.what()));
            }
            seq_ = seq;
            ++applied;
        }
        pos += kRecordHeader + length;
    }
    records_ = applied;
    if (pos < bytes.size()) {
        log_.warn("[{}] {}: dropped {} bytes after the last intact record (a write cut short by a crash, or damage)", library_,
                  journal_.string(), bytes.size() - pos);
        const int fd = ::open(journal_.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(pos)) != 0 || ::fsync(fd) != 0) {
            const std::string why = std::strerror(errno);
            if (fd >= 0) ::close(fd);
            throw std::runtime_error(fmt::format("{}: cannot cut the incomplete record off: {}", journal_.string(), why));
        }
        ::close(fd);
    }
    if (applied) log_.info("[{}] replayed {} journal records from {}", library_, applied, journal_.string());
}

void StateStore::commit(const nlohmann::json& changes) { commit(changes, nlohmann::json()); }

void StateStore::commit(const nlohmann::json& changes, const nlohmann::json& section_records) {
    const uint64_t seq = seq_ + 1;
    nlohmann::json body{{"seq", seq}, {"changes", changes}};
    if (section_ && !section_records.is_null() && !section_records.empty()) body[section_->key()] = section_records;
    const std::string payload = body.dump();
    std::vector<uint8_t> record(kRecordHeader + payload.size());
    storage::put_le32(&record[0], static_cast<uint32_t>(payload.size()));
    std::copy(payload.begin(), payload.end(), record.begin() + kRecordHeader);
    storage::put_le32(&record[4], storage::crc32c(std::span<const uint8_t>(record).subspan(kRecordHeader)));
    // One write() per record: a process killed mid-way leaves the whole record or none of it in the
    // page cache; a power loss may tear it, which the CRC catches.
    write_all(journal_fd_, record.data(), record.size(), journal_);
    if (::fdatasync(journal_fd_) != 0) throw os_error(fmt::format("{}: fdatasync", journal_.string()));
    seq_ = seq;
    ++records_;
    for (const auto& c : changes) change::apply(*durable_, c);
    if (records_ >= options_.compact_after) compact();
}

void StateStore::compact() {
    write_snapshot();
    // The snapshot now holds every record; a crash before the truncation is harmless (their seq
    // is not above the snapshot's).
    if (::ftruncate(journal_fd_, 0) != 0) throw os_error(fmt::format("{}: truncate", journal_.string()));
    if (::fsync(journal_fd_) != 0) throw os_error(fmt::format("{}: fsync", journal_.string()));
    records_ = 0;
}

void StateStore::replace(const smc::Inventory& state) {
    *durable_ = state;
    compact();
}

void StateStore::write_snapshot() {
    nlohmann::json snap{{"format", kFormat}, {"library", library_}, {"seq", seq_}, {"inventory", durable_->to_json()}};
    if (section_) snap[section_->key()] = section_->snapshot();
    const std::string text = snap.dump();
    const auto tmp = dir_ / (std::string(kSnapshotName) + ".tmp");
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw os_error(fmt::format("{}: create", tmp.string()));
    try {
        write_all(fd, text.data(), text.size(), tmp);
        if (::fsync(fd) != 0) throw os_error(fmt::format("{}: fsync", tmp.string()));
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), snapshot_.c_str()) != 0) throw os_error(fmt::format("{}: rename", snapshot_.string()));
    fsync_dir(dir_);
}

}  // namespace vtl::library
