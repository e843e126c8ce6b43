// How the client reaches a changer: one SCSI command at a time, answered with the device's status,
// sense and data, or with a transport error when no answer from the device arrived (timeout, host
// or driver failure, lost connection). The two are kept apart: a transport error says nothing
// about the move, a sense does.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace vtl::client {

struct ScsiRequest {
    std::vector<uint8_t> cdb;
    size_t data_in = 0;  // bytes the device may return (0: no data phase)
    std::chrono::milliseconds timeout{60'000};
};

struct ScsiResponse {
    uint8_t status = 0;          // SCSI status byte (GOOD, CHECK CONDITION, BUSY, ...)
    std::vector<uint8_t> sense;  // raw sense bytes, as returned
    std::vector<uint8_t> data;   // data-in actually transferred
    int64_t residual = 0;        // bytes asked for but not transferred
};

struct TransportError {
    enum class Kind { Timeout, HostStatus, DriverStatus, Connection, System, Protocol };
    Kind kind = Kind::System;
    std::string message;
};
std::string to_string(TransportError::Kind k);

using ScsiOutcome = std::variant<ScsiResponse, TransportError>;

class Transport {
public:
    virtual ~Transport() = default;
    virtual ScsiOutcome execute(const ScsiRequest& request) = 0;
    // "/dev/sg3" or "iscsi://host/iqn.../1", for messages.
    virtual std::string name() const = 0;
};

// /dev/sgN (SG_IO) or iscsi://[user%pass@]host[:port]/target-iqn/lun (libiscsi). nullptr with `error`
// set when the device cannot be opened or the session not established.
std::unique_ptr<Transport> open_transport(const std::string& device, std::string& error);

}  // namespace vtl::client
