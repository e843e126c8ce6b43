// Results of store operations: a value or an Error with a code the tape drive maps to sense data
// and a message precise enough to log (barcode, file, offset, what was wrong).
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vtl::storage {

enum class Errc {
    FormatCorrupted,    // fenced: the cartridge's structure is damaged (drive: 03/31/00)
    UnrecoveredRead,    // fenced: a record failed its CRC or could not be decoded (drive: 03/11/00)
    UnsupportedFormat,  // the cartridge was written by a newer format version
    EndOfMedium,        // the record does not fit in the partition; nothing was written (0D/00/02)
    InvalidArgument,    // bad partition, record length 0 or too long, bad layout, bad barcode
    NotFound,           // no such cartridge
    AlreadyExists,      // create or import over an existing cartridge
    InUse,              // the cartridge is open elsewhere (another drive or process)
    BadImage,           // a tape image is malformed (the message has the offset and what was expected)
    Io,                 // the host file system failed (the message has the errno text)
};

std::string_view to_string(Errc code);

// True for the two codes a fenced cartridge answers with.
inline bool is_medium_error(Errc code) { return code == Errc::FormatCorrupted || code == Errc::UnrecoveredRead; }

struct Error {
    Errc code;
    std::string message;
};

template <class... Args>
Error make_error(Errc code, fmt::format_string<Args...> format, Args&&... args) {
    return Error{code, fmt::format(format, std::forward<Args>(args)...)};
}

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}

    bool ok() const { return !error_; }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return *error_; }

private:
    std::optional<Error> error_;
};

// Early return of a failed Result<void> or of the error of any Result.
#define VTL_TRY(expr)                                          \
    do {                                                       \
        auto vtl_try_result_ = (expr);                         \
        if (!vtl_try_result_.ok()) return vtl_try_result_.error(); \
    } while (0)

}  // namespace vtl::storage
