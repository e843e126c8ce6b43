// The concrete transports behind open_transport().
#pragma once

#include "transport.h"

namespace vtl::client {

std::unique_ptr<Transport> open_sg_transport(const std::string& path, std::string& error);
std::unique_ptr<Transport> open_iscsi_transport(const std::string& url, std::string& error);

}  // namespace vtl::client
