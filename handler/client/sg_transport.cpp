// SG_IO on a Linux sg node (/dev/sgN). The kernel enforces the timeout: when it expires the SCSI
// midlayer aborts the command (ABORT TASK) and SG_IO reports DID_TIME_OUT or DRIVER_TIMEOUT.
#include <fcntl.h>
#include <fmt/format.h>
#include <scsi/sg.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "transport_impl.h"

namespace vtl::client {

namespace {

// Linux host_status (DID_*) and driver_status (DRIVER_*) values sg reports.
constexpr uint16_t kDidOk = 0x00;
constexpr uint16_t kDidTimeOut = 0x03;
constexpr uint16_t kDriverTimeout = 0x06;
constexpr uint16_t kDriverSense = 0x08;
constexpr uint8_t kMaxSense = 252;

std::string host_status_name(uint16_t v) {
    static constexpr const char* kNames[] = {"DID_OK",
                                             "DID_NO_CONNECT",
                                             "DID_BUS_BUSY",
                                             "DID_TIME_OUT",
                                             "DID_BAD_TARGET",
                                             "DID_ABORT",
                                             "DID_PARITY",
                                             "DID_ERROR",
                                             "DID_RESET",
                                             "DID_BAD_INTR",
                                             "DID_PASSTHROUGH",
                                             "DID_SOFT_ERROR",
                                             "DID_IMM_RETRY",
                                             "DID_REQUEUE",
                                             "DID_TRANSPORT_DISRUPTED",
                                             "DID_TRANSPORT_FAILFAST"};
    if (v < std::size(kNames)) return kNames[v];
    return fmt::format("host status 0x{:02X}", v);
}

class SgTransport final : public Transport {
public:
    SgTransport(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
    ~SgTransport() override { ::close(fd_); }

    ScsiOutcome execute(const ScsiRequest& req) override {
        ScsiResponse r;
        r.data.resize(req.data_in);
        std::vector<uint8_t> cdb = req.cdb;
        std::array<uint8_t, kMaxSense> sense{};
        sg_io_hdr_t h{};
        h.interface_id = 'S';
        h.cmd_len = static_cast<unsigned char>(cdb.size());
        h.cmdp = cdb.data();
        h.dxfer_direction = req.data_in ? SG_DXFER_FROM_DEV : SG_DXFER_NONE;
        h.dxfer_len = static_cast<unsigned>(req.data_in);
        h.dxferp = req.data_in ? r.data.data() : nullptr;
        h.mx_sb_len = kMaxSense;
        h.sbp = sense.data();
        h.timeout = static_cast<unsigned>(std::min<int64_t>(req.timeout.count(), UINT32_MAX));
        if (::ioctl(fd_, SG_IO, &h) < 0) {
            return TransportError{TransportError::Kind::System,
                                  fmt::format("SG_IO on {}: {}", path_, std::strerror(errno))};
        }
        const uint16_t driver = h.driver_status & 0x0F;
        if (h.host_status == kDidTimeOut || driver == kDriverTimeout) {
            return TransportError{
                TransportError::Kind::Timeout,
                fmt::format("{}: no answer within {} ms; the kernel aborted the command", path_, req.timeout.count())};
        }
        if (h.host_status != kDidOk) {
            return TransportError{
                TransportError::Kind::HostStatus,
                fmt::format("{}: {} (host status 0x{:02X})", path_, host_status_name(h.host_status), h.host_status)};
        }
        if (driver != 0 && driver != kDriverSense) {
            return TransportError{TransportError::Kind::DriverStatus,
                                  fmt::format("{}: driver status 0x{:02X}", path_, h.driver_status)};
        }
        r.status = h.status;
        r.sense.assign(sense.begin(), sense.begin() + std::min<int>(h.sb_len_wr, kMaxSense));
        r.residual = h.resid;
        r.data.resize(req.data_in - std::clamp<int64_t>(h.resid, 0, static_cast<int64_t>(req.data_in)));
        return r;
    }

    std::string name() const override { return path_; }

private:
    std::string path_;
    int fd_;
};

}  // namespace

std::unique_ptr<Transport> open_sg_transport(const std::string& path, std::string& error) {
    // O_NONBLOCK: opening must not wait for another opener's O_EXCL.
    const int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        error = fmt::format("cannot open {}: {}", path, std::strerror(errno));
        return nullptr;
    }
    int version = 0;
    if (::ioctl(fd, SG_GET_VERSION_NUM, &version) < 0) {
        error =
            fmt::format("{} is not an sg device (SG_GET_VERSION_NUM: {}); use /dev/sgN", path, std::strerror(errno));
        ::close(fd);
        return nullptr;
    }
    return std::make_unique<SgTransport>(path, fd);
}

std::string to_string(TransportError::Kind k) {
    switch (k) {
        case TransportError::Kind::Timeout:
            return "timeout";
        case TransportError::Kind::HostStatus:
            return "host status";
        case TransportError::Kind::DriverStatus:
            return "driver status";
        case TransportError::Kind::Connection:
            return "connection";
        case TransportError::Kind::System:
            return "system";
        case TransportError::Kind::Protocol:
            return "protocol";
    }
    return "unknown";
}

std::unique_ptr<Transport> open_transport(const std::string& device, std::string& error) {
    if (device.starts_with("iscsi://")) return open_iscsi_transport(device, error);
    return open_sg_transport(device, error);
}

}  // namespace vtl::client
