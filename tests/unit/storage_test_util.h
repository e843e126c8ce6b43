// Helpers shared by the storage tests: a temporary directory and deterministic record data.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace vtl::storage::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base && *base ? base : "/tmp") + "/vtl-storage-XXXXXX";
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

inline uint64_t splitmix(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The bytes of record `index` of a test stream: a function of (seed, index) only.
inline std::vector<uint8_t> record_data(uint64_t seed, uint64_t index, size_t size) {
    std::vector<uint8_t> out(size);
    uint64_t state = seed * 1000003 + index;
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        const uint64_t v = splitmix(state);
        std::memcpy(&out[i], &v, 8);
    }
    const uint64_t v = splitmix(state);
    for (size_t k = 0; i < size; ++i, ++k) out[i] = static_cast<uint8_t>(v >> (8 * k));
    return out;
}

// Compressible bytes (text-like), for compression tests.
inline std::vector<uint8_t> text_data(uint64_t index, size_t size) {
    std::vector<uint8_t> out(size);
    const std::string words = "tape record filemark partition locate space ";
    for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>(words[(i + index * 7) % words.size()]);
    return out;
}

inline uint64_t fnv1a(const uint8_t* p, size_t n, uint64_t h = 0xCBF29CE484222325ull) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

}  // namespace vtl::storage::testing
