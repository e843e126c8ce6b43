// iSCSI through libiscsi, without the kernel: iscsi://[user%pass@]host[:port]/target-iqn/lun.
// One session per transport; each command is synchronous with the request's timeout. A command
// that times out is aborted at the target (ABORT TASK), as the kernel's error handler does.
#include <fmt/format.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include <algorithm>

#include "transport_impl.h"

namespace vtl::client {

namespace {

constexpr const char* kInitiatorName = "iqn.2024-01.org.vtl:vtl-move";
constexpr int kAbortTimeoutS = 10;

// The URL as messages show it: a CHAP secret replaced by "***".
std::string redact(const std::string& url) {
    const size_t host = std::string_view("iscsi://").size();
    const size_t at = url.find('@', host);
    const size_t pct = url.find('%', host);
    if (at == std::string::npos || pct == std::string::npos || pct > at) return url;
    return url.substr(0, pct + 1) + "***" + url.substr(at);
}

class IscsiTransport final : public Transport {
public:
    IscsiTransport(const std::string& url, iscsi_context* ctx, int lun) : url_(redact(url)), ctx_(ctx), lun_(lun) {}
    ~IscsiTransport() override {
        iscsi_logout_sync(ctx_);
        iscsi_destroy_context(ctx_);
    }

    ScsiOutcome execute(const ScsiRequest& req) override {
        std::vector<uint8_t> cdb = req.cdb;
        scsi_task* task =
            scsi_create_task(static_cast<int>(cdb.size()), cdb.data(), req.data_in ? SCSI_XFER_READ : SCSI_XFER_NONE,
                             static_cast<int>(req.data_in));
        if (!task) return TransportError{TransportError::Kind::System, "scsi_create_task: out of memory"};
        // Whole seconds, rounded up: libiscsi's timeout granularity; 0 would mean none.
        const auto seconds = std::max<int64_t>(1, (req.timeout.count() + 999) / 1000);
        iscsi_set_timeout(ctx_, static_cast<int>(seconds));
        scsi_task* done = iscsi_scsi_command_sync(ctx_, lun_, task, nullptr);
        if (!done) {
            scsi_free_scsi_task(task);
            return TransportError{TransportError::Kind::Connection, fmt::format("{}: {}", url_, iscsi_get_error(ctx_))};
        }
        ScsiOutcome out = answer(*task, req, seconds);
        scsi_free_scsi_task(task);
        return out;
    }

    std::string name() const override { return url_; }

private:
    ScsiOutcome answer(scsi_task& task, const ScsiRequest& req, int64_t seconds) {
        if (task.status == SCSI_STATUS_TIMEOUT) {
            iscsi_set_timeout(ctx_, kAbortTimeoutS);
            const bool aborted = iscsi_task_mgmt_abort_task_sync(ctx_, &task) == 0;
            return TransportError{
                TransportError::Kind::Timeout,
                fmt::format("{}: no answer within {} s; ABORT TASK {}", url_, seconds, aborted ? "sent" : "failed")};
        }
        if (task.status == SCSI_STATUS_CANCELLED || task.status == SCSI_STATUS_ERROR) {
            return TransportError{TransportError::Kind::Connection, fmt::format("{}: {}", url_, iscsi_get_error(ctx_))};
        }
        if (task.status < 0 || task.status > 0xFF) {
            return TransportError{TransportError::Kind::Protocol,
                                  fmt::format("{}: libiscsi status 0x{:X}", url_, task.status)};
        }
        ScsiResponse r;
        r.status = static_cast<uint8_t>(task.status);
        const uint8_t* data = task.datain.data;
        const size_t size = data ? static_cast<size_t>(task.datain.size) : 0;
        if (r.status == SCSI_STATUS_CHECK_CONDITION) {
            // The response PDU's data segment: SENSE LENGTH (2 bytes), then the sense bytes.
            if (size >= 2) {
                const size_t len = std::min<size_t>(size - 2, size_t(data[0]) << 8 | data[1]);
                r.sense.assign(data + 2, data + 2 + len);
            }
        } else {
            r.data.assign(data, data + std::min(size, req.data_in));
        }
        if (task.residual_status == SCSI_RESIDUAL_UNDERFLOW) r.residual = static_cast<int64_t>(task.residual);
        if (task.residual_status == SCSI_RESIDUAL_OVERFLOW) r.residual = -static_cast<int64_t>(task.residual);
        return r;
    }

    std::string url_;
    iscsi_context* ctx_;
    int lun_;
};

}  // namespace

std::unique_ptr<Transport> open_iscsi_transport(const std::string& url, std::string& error) {
    iscsi_context* ctx = iscsi_create_context(kInitiatorName);
    if (!ctx) {
        error = "iscsi_create_context failed";
        return nullptr;
    }
    iscsi_url* u = iscsi_parse_full_url(ctx, url.c_str());
    if (!u) {
        error = fmt::format("{}: {} (expected iscsi://[user%pass@]host[:port]/target-iqn/lun)", redact(url),
                            iscsi_get_error(ctx));
        iscsi_destroy_context(ctx);
        return nullptr;
    }
    iscsi_set_targetname(ctx, u->target);
    iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
    iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE_CRC32C);
    if (u->user[0]) iscsi_set_initiator_username_pwd(ctx, u->user, u->passwd);
    const int lun = u->lun;
    const std::string portal = u->portal;
    iscsi_destroy_url(u);
    iscsi_set_timeout(ctx, 30);
    if (iscsi_full_connect_sync(ctx, portal.c_str(), lun) != 0) {
        error = fmt::format("{}: login failed: {}", redact(url), iscsi_get_error(ctx));
        iscsi_destroy_context(ctx);
        return nullptr;
    }
    return std::make_unique<IscsiTransport>(url, ctx, lun);
}

}  // namespace vtl::client
