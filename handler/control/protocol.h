// The control protocol of vtld: newline-delimited JSON over a unix socket (or localhost TCP with
// a token). Request {"id":1,"method":"devices","params":{...}}; reply {"id":1,"result":...} or
// {"id":1,"error":{"code":"not_found","message":"..."}}; a stream (trace follow) then sends
// {"id":1,"stream":<line>} until the client hangs up. Shared by the server and vtlctl.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vtl::control {

// Error codes a reply may carry.
namespace code {
inline constexpr std::string_view kParse = "parse_error";        // the line is not JSON
inline constexpr std::string_view kInvalid = "invalid_request";  // no method, id of a wrong type
inline constexpr std::string_view kUnknownMethod = "unknown_method";
inline constexpr std::string_view kBadParams = "bad_params";       // missing/mistyped/unknown parameter
inline constexpr std::string_view kNotFound = "not_found";         // no such library, device, rule...
inline constexpr std::string_view kRefused = "refused";            // the library said no (door closed...)
inline constexpr std::string_view kUnavailable = "unavailable";    // not wired in this daemon
inline constexpr std::string_view kUnauthorized = "unauthorized";  // TCP without a valid token
inline constexpr std::string_view kInternal = "internal";
}  // namespace code

// A method's failure, turned into the reply's "error" object.
class ControlError : public std::runtime_error {
public:
    ControlError(std::string_view code, const std::string& message) : std::runtime_error(message), code_(code) {}
    const std::string& code() const { return code_; }

private:
    std::string code_;
};

// Longest request line the server reads (an inventory reply may be longer: no limit on replies).
inline constexpr size_t kMaxRequestLine = 1 << 20;

inline nlohmann::json make_request(uint64_t id, std::string_view method, nlohmann::json params) {
    return {{"id", id}, {"method", method}, {"params", params.is_null() ? nlohmann::json::object() : params}};
}
inline nlohmann::json make_result(const nlohmann::json& id, nlohmann::json result) {
    return {{"id", id}, {"result", std::move(result)}};
}
inline nlohmann::json make_error(const nlohmann::json& id, std::string_view code, std::string_view message) {
    return {{"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

}  // namespace vtl::control
