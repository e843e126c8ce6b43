// How vtlctl shows replies to people: aligned tables and short sentences. (--json prints the
// result as the server sent it.)
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vtlctl {

// Columns padded to their widest cell; the first row is the header.
std::string table(const std::vector<std::vector<std::string>>& rows);

// The human form of `method`'s result; methods without one print their JSON indented.
std::string human(const std::string& method, const nlohmann::json& result);

}  // namespace vtlctl
