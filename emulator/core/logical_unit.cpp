#include "core/logical_unit.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "scsi/cdb.h"
#include "scsi/opcodes.h"

namespace vtl {

namespace {

std::shared_ptr<spdlog::logger> core_logger() {
    auto log = spdlog::get("vtl");
    return log ? log : spdlog::default_logger();
}

const char* status_name(scsi::Status s) {
    switch (s) {
        case scsi::Status::Good: return "GOOD";
        case scsi::Status::CheckCondition: return "CHECK CONDITION";
        case scsi::Status::ConditionMet: return "CONDITION MET";
        case scsi::Status::Busy: return "BUSY";
        case scsi::Status::ReservationConflict: return "RESERVATION CONFLICT";
        case scsi::Status::TaskSetFull: return "TASK SET FULL";
        case scsi::Status::AcaActive: return "ACA ACTIVE";
        case scsi::Status::TaskAborted: return "TASK ABORTED";
    }
    return "?";
}

constexpr uint8_t kControlModePage = 0x0A;
constexpr uint8_t kDSenseBit = 0x04;  // control mode page byte 2

}  // namespace

LogicalUnit::LogicalUnit(std::string name, Clock& clock, std::unique_ptr<Device> device, Options options)
    : name_(std::move(name)), clock_(clock), device_(std::move(device)), options_(options), log_(core_logger()) {
    device_->attach(*this);
}

LogicalUnit::~LogicalUnit() = default;

scsi::SenseFormat LogicalUnit::sense_format() const {
    if (!mode_pages_.contains(kControlModePage, 0)) return scsi::SenseFormat::Fixed;
    const auto page = mode_pages_.current(kControlModePage, 0);
    return (page[2] & kDSenseBit) ? scsi::SenseFormat::Descriptor : scsi::SenseFormat::Fixed;
}

void LogicalUnit::release(const Nexus& nexus) {
    if (reserved_by_ && reserved_by_->same(nexus)) reserved_by_.reset();
}

void LogicalUnit::set_prevent(const Nexus& nexus, bool prevent) {
    const bool before = medium_removal_prevented();
    if (prevent) {
        preventing_.insert(nexus.key());
    } else {
        preventing_.erase(nexus.key());
    }
    if (before != medium_removal_prevented()) device_->on_medium_removal_prevented(!before);
}

void LogicalUnit::submit(const TaskPtr& task) {
    const auto cdb = task->cdb();
    log_->debug("[{}] tag={:#x} {} submitted by {}", name_, task->tag(),
                cdb.empty() ? std::string("(empty CDB)") : fmt::format("opcode {:02X}h", cdb[0]),
                task->nexus().initiator);
    task->submitted_ = clock_.now();
    unit_attentions_.contact(task->nexus());

    const size_t needed = scsi::cdb_length(cdb);
    if (cdb.empty() || needed == 0 || cdb.size() < needed || needed > scsi::kMaxCdbLength) {
        active_.push_back(task);
        finish(task, Result::check(scsi::Sense::illegal_request(
                         cdb.empty() ? scsi::asc::kInvalidCommandOperationCode : scsi::asc::kInvalidFieldInCdb)));
        return;
    }
    const auto match = commands_.find(cdb.first(needed));
    const bool immediate = match.info && match.info->queueing == Queueing::Immediate;
    if (options_.serial && !immediate && (ordered_running() || !waiting_.empty())) {
        waiting_.push_back(task);
        return;
    }
    start(task);
}

void LogicalUnit::start(const TaskPtr& task) {
    active_.push_back(task);
    const auto full = task->cdb();
    const auto cdb = full.first(scsi::cdb_length(full));
    const auto match = commands_.find(cdb);
    const CommandInfo* info = match.info;

    // A pending unit attention is reported first, except to INQUIRY, REPORT LUNS and REQUEST
    // SENSE (SPC-4 5.14); the command is then not run.
    const auto rule = info ? info->unit_attention : UnitAttentionRule::Report;
    if (rule == UnitAttentionRule::Report) {
        if (auto ua = unit_attentions_.pop(task->nexus())) {
            finish(task, Result::check(scsi::Sense::unit_attention(*ua)));
            return;
        }
    }
    if (match.result == CommandSet::Lookup::UnknownOpcode) {
        finish(task, Result::check(scsi::Sense::illegal_request(scsi::asc::kInvalidCommandOperationCode)));
        return;
    }
    if (match.result == CommandSet::Lookup::UnknownServiceAction) {
        const bool variable = cdb[0] == 0x7F;
        finish(task, Result::check(variable ? scsi::Sense::invalid_cdb_field(8) : scsi::Sense::invalid_cdb_field(1, 4)));
        return;
    }
    if (auto bad = scsi::check_control_byte(cdb)) {
        finish(task, Result::check(*bad));
        return;
    }
    if (reserved_by_ && !reserved_by_->same(task->nexus()) &&
        !(info->allowed_when_reserved && info->allowed_when_reserved(cdb))) {
        finish(task, Result::with_status(scsi::Status::ReservationConflict));
        return;
    }

    task->ordered_ = info->queueing == Queueing::Ordered;
    log_->debug("[{}] tag={:#x} {} start", name_, task->tag(), info->name);
    for (LuHooks* h : hooks_) {
        if (auto instead = h->before(*this, task, *info)) {
            if (!instead->is_pending) finish(task, std::move(*instead));
            return;
        }
    }
    run_handler(task, *info);
}

void LogicalUnit::run_handler(const TaskPtr& task, const CommandInfo& info) {
    Exec exec(*this, task);
    Result result = info.handler(exec);
    if (!result.is_pending) finish(task, std::move(result));
}

void LogicalUnit::run(const TaskPtr& task) {
    if (task->done() || std::find(active_.begin(), active_.end(), task) == active_.end()) return;
    task->abort_handler_ = nullptr;  // the hook's, for the time it kept the task
    const auto full = task->cdb();
    const auto match = commands_.find(full.first(scsi::cdb_length(full)));
    if (match.info) run_handler(task, *match.info);
}

void LogicalUnit::add_hooks(LuHooks* hooks) {
    if (std::find(hooks_.begin(), hooks_.end(), hooks) == hooks_.end()) hooks_.push_back(hooks);
}

void LogicalUnit::remove_hooks(LuHooks* hooks) { std::erase(hooks_, hooks); }

void LogicalUnit::expire(const TaskPtr& task, Result result) {
    if (task->done() || std::find(active_.begin(), active_.end(), task) == active_.end()) return;
    if (auto handler = std::move(task->abort_handler_)) handler();
    log_->warn("[{}] tag={:#x} given up by the device", name_, task->tag());
    finish(task, std::move(result));
}

void LogicalUnit::complete(const TaskPtr& task, Result result) {
    if (task->done()) return;  // aborted meanwhile: the device's late answer goes nowhere
    finish(task, std::move(result));
}

void LogicalUnit::finish(const TaskPtr& task, Result result) {
    auto it = std::find(active_.begin(), active_.end(), task);
    if (it == active_.end() || task->done()) return;
    active_.erase(it);

    const auto cdb = task->cdb();
    const auto match = commands_.find(cdb.first(std::min(cdb.size(), scsi::cdb_length(cdb))));

    if (result.in_buffer &&
        std::any_of(hooks_.begin(), hooks_.end(), [](const LuHooks* h) { return h->edits_data(); })) {
        const auto placed = task->command().data_in_buffer.first(*result.in_buffer);
        result.data.assign(placed.begin(), placed.end());
        result.in_buffer.reset();
    }
    if (result.status != scsi::Status::TaskAborted) {
        for (LuHooks* h : hooks_) h->after(*this, *task, result);
    }
    task->status_ = result.status;
    if (result.sense) task->sense_data_ = result.sense->encode(sense_format());
    const uint32_t expected = task->command().data_in_length;
    if (result.in_buffer) {
        // Within the buffer, so within the expected length (the transport sizes it so).
        const uint32_t placed = std::min<uint32_t>(*result.in_buffer, task->command().data_in_buffer.size());
        task->in_buffer_ = std::min(placed, expected);
        result.data.clear();
    } else if (result.data.size() > expected) {
        task->overflow_ = true;
        result.data.resize(expected);
    }
    task->residual_ = expected - static_cast<uint32_t>(task->in_buffer_ ? *task->in_buffer_ : result.data.size());
    task->data_in_ = std::move(result.data);
    task->done_ = true;
    task->abort_handler_ = nullptr;

    if (result.sense) {
        const auto& s = *result.sense;
        log_->info("[{}] tag={:#x} {} -> {} {:X}/{:02X}/{:02X}", name_, task->tag(),
                   match.info ? match.info->name : fmt::format("opcode {:02X}h", cdb.empty() ? 0 : cdb[0]),
                   status_name(result.status), static_cast<int>(s.key()), s.code().asc, s.code().ascq);
    } else {
        log_->debug("[{}] tag={:#x} -> {} data-in {} residual {}", name_, task->tag(), status_name(result.status),
                    task->data_in().size(), task->residual_);
    }
    for (LuHooks* h : hooks_) h->completed(*this, *task);
    if (task->on_complete_) task->on_complete_(*task);
    if (task->ordered_) dispatch_waiting();
}

bool LogicalUnit::ordered_running() const {
    return std::any_of(active_.begin(), active_.end(), [](const TaskPtr& t) { return t->ordered_; });
}

void LogicalUnit::dispatch_waiting() {
    while (!managing_ && !ordered_running() && !waiting_.empty()) {
        TaskPtr next = waiting_.front();
        waiting_.pop_front();
        start(next);
    }
}

void LogicalUnit::abort_one(const TaskPtr& task) {
    if (task->ignores_aborts()) {
        log_->warn("[{}] tag={:#x} abort ignored: the task stays", name_, task->tag());
        return;
    }
    if (auto it = std::find(waiting_.begin(), waiting_.end(), task); it != waiting_.end()) {
        waiting_.erase(it);
        active_.push_back(task);
    } else if (auto handler = std::move(task->abort_handler_)) {
        // The device decides what happens to the operation (a move in motion may finish).
        handler();
    }
    log_->info("[{}] tag={:#x} aborted", name_, task->tag());
    finish(task, Result::with_status(scsi::Status::TaskAborted));
}

bool LogicalUnit::abort_task(const Nexus& nexus, uint64_t tag) {
    auto matches = [&](const TaskPtr& t) { return t->tag() == tag && t->nexus().same(nexus); };
    TaskPtr found;
    if (auto it = std::find_if(active_.begin(), active_.end(), matches); it != active_.end()) found = *it;
    if (!found) {
        if (auto it = std::find_if(waiting_.begin(), waiting_.end(), matches); it != waiting_.end()) found = *it;
    }
    if (!found) return false;
    abort_one(found);
    return true;
}

void LogicalUnit::lun_reset(const Nexus& by) {
    log_->warn("[{}] LOGICAL UNIT RESET from {}", name_, by.initiator);
    managing_ = true;
    std::vector<TaskPtr> all(waiting_.begin(), waiting_.end());
    all.insert(all.end(), active_.begin(), active_.end());
    for (const auto& t : all) abort_one(t);
    reserved_by_.reset();
    const bool was_prevented = medium_removal_prevented();
    preventing_.clear();
    if (was_prevented) device_->on_medium_removal_prevented(false);
    mode_pages_.restore_saved();
    device_->on_lun_reset();
    unit_attentions_.add_all(scsi::asc::kBusDeviceResetOccurred);
    managing_ = false;
}

void LogicalUnit::nexus_loss(const Nexus& nexus) {
    log_->warn("[{}] I_T nexus loss: {}", name_, nexus.initiator);
    managing_ = true;
    std::vector<TaskPtr> mine;
    for (const auto& t : waiting_) if (t->nexus().same(nexus)) mine.push_back(t);
    for (const auto& t : active_) if (t->nexus().same(nexus)) mine.push_back(t);
    for (const auto& t : mine) abort_one(t);
    release(nexus);
    set_prevent(nexus, false);
    unit_attentions_.lost(nexus);
    device_->on_nexus_loss(nexus);
    managing_ = false;
    dispatch_waiting();
}

}  // namespace vtl
