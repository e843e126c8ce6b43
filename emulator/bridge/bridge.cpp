#include "bridge/bridge.h"

#include <spdlog/spdlog.h>

#include "library/library.h"
#include "scsi/cdb.h"
#include "scsi/opcodes.h"

namespace vtl::bridge {

namespace {

constexpr uint8_t kControlUsage = 0x07;

// REPORT LUNS (SPC-4 6.33): SELECT REPORT byte 2, ALLOCATION LENGTH bytes 6-9. Behind a
// bridging drive's target port there are two logical units: the drive (0) and its bridged
// changer (1).
Result report_luns(Exec& x) {
    scsi::CdbReader r(x.cdb());
    const uint8_t select = r.u8(2);
    r.reserved(1).require(select <= 0x02, 2).reserved(3).reserved(4).reserved(5).reserved(10);
    const uint32_t allocation = r.be32(6);
    r.require(allocation >= 16, 6);
    if (r.error()) return Result::check(*r.error());
    std::vector<uint8_t> data(8, 0);
    if (select != 0x01) {  // 01h: well-known logical units only, of which there are none
        for (uint8_t lun : {0, 1}) {
            std::vector<uint8_t> entry(8, 0);
            entry[1] = lun;  // peripheral device addressing, bus 0
            data.insert(data.end(), entry.begin(), entry.end());
        }
    }
    scsi::put_be32(&data[0], static_cast<uint32_t>(data.size() - 8));
    return Result::good(std::move(data), allocation);
}

}  // namespace

bool Bridge::answered_locally(uint8_t opcode) {
    namespace op = scsi::op;
    switch (opcode) {
        case op::kInquiry:
        case op::kTestUnitReady:
        case op::kRequestSense:
        case op::kReportLuns:
        case op::kReserve6:
        case op::kRelease6:
        case op::kReserve10:
        case op::kRelease10:
            return true;
        default:
            return false;
    }
}

Bridge::Bridge(library::Library& library, std::string drive, LogicalUnit& lu)
    : library_(library),
      drive_(std::move(drive)),
      lu_(lu),
      timeout_(std::chrono::duration_cast<Duration>(library.config().bridge.timeout)) {
    auto luns =
        make_command(scsi::op::kReportLuns, "REPORT LUNS",
                     {scsi::op::kReportLuns, 0x00, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, kControlUsage},
                     1, 10, report_luns);
    luns.queueing = Queueing::Immediate;
    luns.unit_attention = UnitAttentionRule::Ignore;
    luns.allowed_when_reserved = [](std::span<const uint8_t>) { return true; };
    lu_.commands().add(std::move(luns));

    std::vector<CommandInfo> wrapped;
    for (const CommandInfo* info : lu_.commands().all()) {
        if (answered_locally(info->opcode)) continue;
        CommandInfo w = *info;
        // The drive forwards one command at a time; the next waits in the drive, its timer not
        // yet started.
        w.queueing = Queueing::Ordered;
        w.handler = [this, inner = info->handler, name = info->name](Exec& x) { return forward(x, inner, name); };
        wrapped.push_back(std::move(w));
    }
    for (auto& w : wrapped) lu_.commands().add(std::move(w));
    lu_.add_hooks(this);
}

Bridge::~Bridge() {
    lu_.remove_hooks(this);
    for (auto& [task, f] : in_flight_) library_.clock().cancel(f.timer);
}

Result Bridge::forward(Exec& x, const Handler& inner, const std::string& name) {
    ++counters_.forwarded;
    const auto last = library_.last_operation();
    lu_.log().debug("[{}] tag={:#x} {} forwarded to the library", lu_.name(), x.task()->tag(), name);
    Result result = inner(x);
    if (!result.is_pending) {
        ++counters_.answered;
        return result;
    }
    Forwarded f;
    f.task = x.task();
    if (library_.last_operation() != last) f.operation = library_.last_operation();
    const Task* key = f.task.get();
    f.timer = library_.clock().schedule_after(timeout_, [this, key] { expire(key); });
    in_flight_[key] = std::move(f);
    return result;
}

void Bridge::expire(const Task* key) {
    const auto it = in_flight_.find(key);
    if (it == in_flight_.end()) return;
    it->second.expired = true;
    it->second.timer = 0;
    const TaskPtr task = it->second.task;
    const auto operation = it->second.operation;
    ++counters_.timed_out;
    lu_.log().warn("[{}] tag={:#x} bridge timer ({} s) ran out: ABORT TASK to the library, 0B/08/01 to the host",
                   lu_.name(), task->tag(), std::chrono::duration_cast<std::chrono::seconds>(timeout_).count());
    // Runs the task's abort handler (ABORT TASK to the library), then answers the host.
    lu_.expire(task, Result::check(scsi::Sense::aborted_command(scsi::asc::kLogicalUnitCommunicationTimeout)));
    count_abort(operation, "timer", task->tag());
}

void Bridge::count_abort(std::optional<uint64_t> operation, const char* why, uint64_t tag) {
    ++counters_.aborts_sent;
    if (!operation) {
        lu_.log().info("[{}] tag={:#x} abort ({}) sent to the library", lu_.name(), tag, why);
        return;
    }
    const char* effect = "";
    switch (library_.abort_effect(*operation)) {
        case library::Library::AbortEffect::Removed:
            ++counters_.removed_after_abort;
            effect = "removed from the robot queue";
            break;
        case library::Library::AbortEffect::Completes:
            ++counters_.completed_after_abort;
            effect = "the robot completes it";
            break;
        case library::Library::AbortEffect::Returns:
            ++counters_.returned_after_abort;
            effect = "the cartridge returns to its source";
            break;
    }
    lu_.log().info("[{}] tag={:#x} abort ({}) of operation {}: {}", lu_.name(), tag, why, *operation, effect);
}

void Bridge::completed(LogicalUnit&, const Task& task) {
    const auto it = in_flight_.find(&task);
    if (it == in_flight_.end()) {
        // Answered at once (or never forwarded: a local command, or refused before its handler).
        return;
    }
    Forwarded f = std::move(it->second);
    in_flight_.erase(it);
    if (f.expired) return;  // counted by expire()
    library_.clock().cancel(f.timer);
    if (task.status() == scsi::Status::TaskAborted) {
        count_abort(f.operation, "host", task.tag());
    } else {
        ++counters_.answered;
    }
}

}  // namespace vtl::bridge
