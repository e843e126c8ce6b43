#include "storage/mam.h"

#include <cstring>

#include "storage/byte_order.h"
#include "storage/crc32c.h"
#include "storage/file_io.h"

namespace vtl::storage {

namespace {

constexpr char kMagic[8] = {'V', 'T', 'L', 'M', 'A', 'M', '\0', '\0'};
constexpr uint32_t kVersion = 1;
constexpr size_t kFixed = 16;        // magic, version, count
constexpr size_t kEntryFixed = 6;    // id, format/flags, length
constexpr size_t kLimit = 16u << 20;  // far beyond any real MAM (LTO: 16 KiB)
constexpr uint8_t kReadOnlyFlag = 0x80;

}  // namespace

std::vector<uint8_t> Mam::encode(const std::map<uint16_t, Attribute>& attributes) {
    std::vector<uint8_t> out(kFixed);
    std::memcpy(out.data(), kMagic, sizeof kMagic);
    put_le32(&out[8], kVersion);
    put_le32(&out[12], static_cast<uint32_t>(attributes.size()));
    for (const auto& [id, a] : attributes) {
        const size_t at = out.size();
        out.resize(at + kEntryFixed + a.value.size());
        put_le16(&out[at], id);
        out[at + 2] = static_cast<uint8_t>((a.format & 0x03) | (a.read_only ? kReadOnlyFlag : 0));
        out[at + 3] = 0;
        put_le16(&out[at + 4], static_cast<uint16_t>(a.value.size()));
        if (!a.value.empty()) std::memcpy(&out[at + kEntryFixed], a.value.data(), a.value.size());
    }
    const uint32_t crc = crc32c(out.data(), out.size());
    out.resize(out.size() + 4);
    put_le32(&out[out.size() - 4], crc);
    return out;
}

Result<std::map<uint16_t, Attribute>> Mam::decode(std::span<const uint8_t> bytes) {
    auto bad = [](size_t offset, std::string_view what) {
        return make_error(Errc::FormatCorrupted, "{} offset {}: {}", kFileName, offset, what);
    };
    if (bytes.size() < kFixed + 4) return bad(0, fmt::format("file is {} bytes, too short for a MAM", bytes.size()));
    if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return bad(0, "no MAM magic \"VTLMAM\"");
    const size_t body = bytes.size() - 4;
    const uint32_t stored = get_le32(&bytes[body]);
    const uint32_t crc = crc32c(bytes.data(), body);
    if (stored != crc) return bad(body, fmt::format("CRC mismatch (stored 0x{:08X}, computed 0x{:08X})", stored, crc));
    if (get_le32(&bytes[8]) != kVersion) return bad(8, fmt::format("MAM format version {} is not supported", get_le32(&bytes[8])));
    const uint32_t count = get_le32(&bytes[12]);
    std::map<uint16_t, Attribute> out;
    size_t at = kFixed;
    for (uint32_t i = 0; i < count; ++i) {
        if (body - at < kEntryFixed) return bad(at, fmt::format("attribute {} of {} is cut short", i, count));
        Attribute a;
        a.id = get_le16(&bytes[at]);
        a.format = bytes[at + 2] & 0x03;
        a.read_only = bytes[at + 2] & kReadOnlyFlag;
        const size_t length = get_le16(&bytes[at + 4]);
        if ((bytes[at + 2] & 0x7C) || bytes[at + 3]) return bad(at + 2, "attribute has unknown flag bits");
        if (body - at - kEntryFixed < length) return bad(at, fmt::format("attribute 0x{:04X} value is cut short", a.id));
        a.value.assign(bytes.begin() + at + kEntryFixed, bytes.begin() + at + kEntryFixed + length);
        if (!out.emplace(a.id, a).second) return bad(at, fmt::format("attribute 0x{:04X} appears twice", a.id));
        at += kEntryFixed + length;
    }
    if (at != body) return bad(at, fmt::format("{} bytes after the last attribute", body - at));
    return out;
}

Result<Mam> Mam::load(int dir) {
    Mam mam;
    mam.dir_ = dir;
    auto text = read_small_file(dir, kFileName, kLimit);
    if (!text.ok()) {
        if (text.error().code == Errc::NotFound) return mam;
        return text.error();
    }
    auto decoded = decode({reinterpret_cast<const uint8_t*>(text->data()), text->size()});
    if (!decoded.ok()) return decoded.error();
    mam.attributes_ = std::move(*decoded);
    return mam;
}

const Attribute* Mam::find(uint16_t id) const {
    auto it = attributes_.find(id);
    return it == attributes_.end() ? nullptr : &it->second;
}

Result<void> Mam::set(Attribute attribute) {
    if (attribute.value.size() > kMaxValueLength) {
        return make_error(Errc::InvalidArgument, "attribute 0x{:04X} value of {} bytes exceeds {}", attribute.id,
                          attribute.value.size(), kMaxValueLength);
    }
    if (attribute.format > 0x03) return make_error(Errc::InvalidArgument, "attribute format {} out of range", attribute.format);
    attributes_[attribute.id] = std::move(attribute);
    dirty_ = true;
    return {};
}

bool Mam::erase(uint16_t id) {
    const bool erased = attributes_.erase(id) > 0;
    dirty_ |= erased;
    return erased;
}

std::optional<uint64_t> Mam::number(uint16_t id) const {
    const Attribute* a = find(id);
    if (!a || a->format != mam_format::kBinary || a->value.empty() || a->value.size() > 8) return std::nullopt;
    uint64_t v = 0;
    for (uint8_t b : a->value) v = v << 8 | b;
    return v;
}

void Mam::set_number(uint16_t id, uint64_t value, size_t width) {
    Attribute a{id, mam_format::kBinary, false, std::vector<uint8_t>(width)};
    if (const Attribute* old = find(id)) a.read_only = old->read_only;
    for (size_t i = 0; i < width; ++i) a.value[width - 1 - i] = static_cast<uint8_t>(i < 8 ? value >> (8 * i) : 0);
    attributes_[id] = std::move(a);
    dirty_ = true;
}

void Mam::add_number(uint16_t id, uint64_t delta, size_t width) { set_number(id, number(id).value_or(0) + delta, width); }

Result<void> Mam::commit() {
    if (!dirty_) return {};
    VTL_TRY(replace_file(dir_, kFileName, encode(attributes_)));
    dirty_ = false;
    return {};
}

}  // namespace vtl::storage
