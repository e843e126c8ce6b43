#include "fault/fault_plan.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/duration.h"
#include "core/logical_unit.h"
#include "device/tape_drive.h"
#include "library/emulator.h"
#include "library/library.h"
#include "scsi/cdb.h"
#include "scsi/opcodes.h"

namespace vtl::fault {

namespace {

constexpr uint8_t kRead6 = 0x08;
constexpr uint8_t kWrite6 = 0x0A;
constexpr uint8_t kWriteFilemarks6 = 0x10;
constexpr uint8_t kReadPosition = 0x34;
constexpr uint8_t kBpew = 0x01;  // READ POSITION byte 0, every form (SSC-4 7.7)
constexpr scsi::Asc kWriteError{0x0C, 0x00};
constexpr scsi::Asc kNotReadyOffline{0x04, 0x12};

std::string describe(Duration d) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d);
    if (std::chrono::duration_cast<Duration>(ms) == d) return config::format_duration(ms);
    return fmt::format("{}ns", d.count());
}

std::string hex(uint16_t a) { return fmt::format("{:#06x}", a); }

// The blocks a tape command covers, from the drive's position before it.
struct Coverage {
    uint8_t opcode = 0;
    uint64_t first = 0;
    uint64_t count = 1;  // blocks (or filemarks) the command reads or writes; 1 otherwise
    bool fixed = false;
    uint32_t length = 0;  // TRANSFER LENGTH (or filemark COUNT)
    uint32_t block_length = 0;
    uint64_t last() const { return first + (count ? count : 1) - 1; }
};

std::optional<Coverage> coverage(const TapeDrive* drive, std::span<const uint8_t> cdb) {
    if (!drive || !drive->tape().mounted()) return std::nullopt;
    Coverage c;
    c.opcode = cdb[0];
    c.first = drive->tape().object();
    if (c.opcode == kRead6 || c.opcode == kWrite6 || c.opcode == kWriteFilemarks6) {
        scsi::CdbReader r(cdb);
        c.length = r.be24(2);
        c.fixed = c.opcode != kWriteFilemarks6 && r.bit(1, 0);
        c.block_length = drive->block_length();
        c.count = c.opcode == kWriteFilemarks6 || c.fixed ? c.length : 1;
    }
    return c;
}

// The element addresses a changer command names (SMC-3 CDB layouts).
std::vector<uint16_t> changer_addresses(std::span<const uint8_t> cdb) {
    scsi::CdbReader r(cdb);
    switch (cdb[0]) {
        case 0xA5:
            return {r.be16(4), r.be16(6)};  // MOVE MEDIUM: source, destination
        case 0xA6:
            return {r.be16(4), r.be16(6), r.be16(8)};  // EXCHANGE MEDIUM
        case 0x2B:
            return {r.be16(4)};  // POSITION TO ELEMENT
        case 0xB8:               // READ ELEMENT STATUS: starting element
        case 0x37:               // INITIALIZE ELEMENT STATUS WITH RANGE
        case 0xE7:
        case 0x1B:  // OPEN/CLOSE IMPORT/EXPORT ELEMENT
        case 0xB5:  // REQUEST VOLUME ELEMENT ADDRESS
        case 0xB6:
            return {r.be16(2)};  // SEND VOLUME TAG
        default:
            return {};
    }
}

uint16_t resolve(const AddressSel& a, const config::LibraryConfig& c) {
    switch (a.kind) {
        case AddressSel::Kind::Element:
            return static_cast<uint16_t>(a.value);
        case AddressSel::Kind::Slot:
            return static_cast<uint16_t>(c.addresses.slot + a.value - 1);
        case AddressSel::Kind::Drive:
            return static_cast<uint16_t>(c.addresses.drive + a.value);
        case AddressSel::Kind::Ie:
            return static_cast<uint16_t>(c.addresses.ie + a.value - 1);
    }
    return 0;
}

bool any_element(const Rule& r, const config::LibraryConfig& c, std::initializer_list<uint16_t> addresses) {
    for (const auto& sel : r.elements) {
        const uint16_t a = resolve(sel, c);
        if (std::find(addresses.begin(), addresses.end(), a) != addresses.end()) return true;
    }
    return false;
}

bool exempt_from_not_ready(uint8_t opcode) {
    return opcode == scsi::op::kInquiry || opcode == scsi::op::kReportLuns || opcode == scsi::op::kRequestSense;
}

}  // namespace

FaultPlan::FaultPlan(library::Emulator& emulator, Clock& clock, uint64_t seed)
    : emulator_(emulator), clock_(clock), start_(clock.now()), rng_(seed) {
    for (const auto& lib : emulator_.libraries()) {
        const auto& cfg = lib->config();
        for (const auto& ref : lib->devices()) {
            auto t = std::make_unique<Target>();
            t->lu = &ref.lu;
            t->lib = lib.get();
            t->device = ref.name;
            t->changer = &ref.lu == &lib->changer();
            for (size_t i = 0; i < cfg.drives.size(); ++i) {
                if (cfg.drives[i].name == ref.name) t->drive_address = static_cast<uint16_t>(cfg.addresses.drive + i);
            }
            auto* drive = dynamic_cast<TapeDrive*>(&ref.lu.device());
            t->drive = drive && drive->serves_ssc() ? drive : nullptr;
            ref.lu.add_hooks(this);
            targets_.push_back(std::move(t));
        }
        library::Library* l = lib.get();
        lib->robots().set_fault_hook(
            [this, l](uint16_t robot, const smc::Motion& m) { return motion_fault(*l, robot, m); });
    }
}

FaultPlan::~FaultPlan() {
    for (const auto& t : targets_) t->lu->remove_hooks(this);
    for (const auto& lib : emulator_.libraries()) lib->robots().set_fault_hook(nullptr);
    clear();
}

FaultPlan::Target* FaultPlan::target_of(const LogicalUnit& lu) {
    for (const auto& t : targets_) {
        if (t->lu == &lu) return t.get();
    }
    return nullptr;
}

// ---- rules ---------------------------------------------------------------------------------

uint64_t FaultPlan::add(const nlohmann::json& rule) {
    Rule r = parse_rule(rule);
    if (!r.library.empty()) {
        auto* lib = emulator_.library(r.library);
        if (!lib) throw FaultError(fmt::format("device: no library \"{}\"", r.library));
        if (!r.device.empty() && !lib->find(r.device)) {
            throw FaultError(fmt::format("device: library \"{}\" has no device \"{}\"", r.library, r.device));
        }
        if ((r.action == Action::RefuseLoad || r.action == Action::RefuseUnload || r.action == Action::Offline ||
             r.action == Action::TapeAlert) &&
            !r.device.empty()) {
            const auto& drives = lib->config().drives;
            const bool is_drive =
                std::any_of(drives.begin(), drives.end(), [&](const auto& d) { return d.name == r.device; });
            if (!is_drive && r.action != Action::Offline) {
                throw FaultError(fmt::format("device: \"{}\" is not a drive of \"{}\"", r.device, r.library));
            }
            if (!is_drive && r.changer_sense) throw FaultError("changer_sense: only a drive's moves can be refused");
        }
    }
    r.id = next_id_++;
    r.added = clock_.now();
    const uint64_t id = r.id;
    auto& stored = rules_.emplace(id, std::move(r)).first->second;
    if (stored.at) {
        event_timers_[id] = clock_.schedule_at(stored.added + *stored.at, [this, id] {
            event_timers_.erase(id);
            if (auto it = rules_.find(id); it != rules_.end()) start_event(it->second);
        });
    }
    spdlog::info("[fault] rule #{} added: {}", id, stored.given.dump());
    return id;
}

bool FaultPlan::remove(uint64_t id) {
    if (!rules_.contains(id)) return false;
    end_rule(id);
    rules_.erase(id);
    spdlog::info("[fault] rule #{} removed", id);
    return true;
}

void FaultPlan::clear() {
    while (!rules_.empty()) remove(rules_.begin()->first);
}

void FaultPlan::end_rule(uint64_t id) {
    if (auto it = event_timers_.find(id); it != event_timers_.end()) {
        clock_.cancel(it->second);
        event_timers_.erase(it);
    }
    std::vector<uint64_t> windows;
    for (const auto& [wid, w] : windows_) {
        if (w.rule == id) windows.push_back(wid);
    }
    for (uint64_t wid : windows) close_window(wid);
    // Held commands go on as if the fault had never been there.
    std::vector<Held> release;
    for (auto it = held_.begin(); it != held_.end();) {
        if (it->second.rule == id) {
            release.push_back(std::move(it->second));
            it = held_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& h : release) {
        if (h.timer) clock_.cancel(h.timer);
        h.lu->run(h.task);
    }
}

nlohmann::json FaultPlan::list() const {
    auto out = nlohmann::json::array();
    for (const auto& [id, r] : rules_) {
        nlohmann::json o = r.given;
        o["id"] = id;
        o["fired"] = r.fired;
        o["seen"] = r.seen;
        o["retired"] = r.retired();
        out.push_back(std::move(o));
    }
    return out;
}

nlohmann::json FaultPlan::stats() const {
    nlohmann::json by_rule = nlohmann::json::object();
    for (const auto& [id, r] : rules_) by_rule[std::to_string(id)] = r.fired;
    nlohmann::json by_action = nlohmann::json::object();
    for (const auto& [name, n] : by_action_) by_action[name] = n;
    return {{"fired_total", fired_total_},
            {"by_action", by_action},
            {"by_rule", by_rule},
            {"refused_not_ready", refused_not_ready_},
            {"windows_open", windows_.size()},
            {"held", held_.size()}};
}

bool FaultPlan::matches_device(const Rule& r, const Target& t) const {
    if (r.library.empty()) return true;
    if (r.library != t.lib->name()) return false;
    return r.device.empty() || r.device == t.device;
}

bool FaultPlan::in_time(const Rule& r) const {
    const TimePoint now = clock_.now();
    if (r.after && now < start_ + *r.after) return false;
    if (r.before && now >= start_ + *r.before) return false;
    if (r.window && now >= r.added + *r.window) return false;
    return true;
}

bool FaultPlan::early_warning_at(const Rule& r, const Target& t, uint64_t block) const {
    return r.action == Action::EarlyEom && !r.retired() && !r.at && matches_device(r, t) && in_time(r) &&
           r.warning_at && block >= *r.warning_at;
}

void FaultPlan::early_warning_position(const Target& t, Result& result) const {
    if (!t.drive || !t.drive->tape().mounted() || result.status != scsi::Status::Good || result.data.empty()) return;
    const uint64_t position = t.drive->tape().object();
    if (position == 0) return;
    for (const auto& [id, r] : rules_) {
        if (early_warning_at(r, t, position - 1)) {
            result.data[0] |= kBpew;
            return;
        }
    }
}

bool FaultPlan::fires(Rule& r) {
    ++r.seen;
    if (r.nth && r.seen != r.nth) return false;
    if (r.every && r.seen % r.every != 0) return false;
    if (r.probability) {
        // 53 random bits as a double in [0, 1): the same on every platform for a given seed.
        const double x = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
        if (x >= *r.probability) return false;
    }
    return true;
}

void FaultPlan::record(Rule& r, const std::string& where, const std::string& what) {
    ++r.fired;
    ++fired_total_;
    ++by_action_[to_string(r.action)];
    spdlog::warn("{} fault #{} {}{}{}", where, r.id, to_string(r.action), what.empty() ? "" : " ", what);
}

// ---- windows and events --------------------------------------------------------------------

void FaultPlan::open_window(Rule& r, Target& t) {
    Window w;
    w.rule = r.id;
    w.lib = t.lib;
    switch (r.action) {
        case Action::Door: {
            w.ie_door = r.ie_door;
            if (r.ie_door) {
                if (auto err = t.lib->open_ie_door()) {
                    spdlog::warn("[{}/changer] fault #{} door: {}", t.lib->name(), r.id, *err);
                    return;
                }
            } else {
                Target* changer = target_of(t.lib->changer());
                w.target = changer;
                w.sense = scsi::Sense::not_ready(r.asc.value_or(scsi::asc::kManualInterventionRequired));
                w.end_attention = scsi::asc::kNotReadyToReadyChange;
            }
            break;
        }
        case Action::Offline:
            w.target = &t;
            w.sense = scsi::Sense::not_ready(kNotReadyOffline);
            w.changer_sense = r.changer_sense;
            break;
        default:
            w.target = &t;
            w.sense = scsi::Sense::not_ready(r.asc.value_or(scsi::asc::kNotReadyCauseNotReportable));
            break;
    }
    for (const auto& [id, other] : windows_) {
        if (other.rule == w.rule && other.target == w.target && other.ie_door == w.ie_door && other.lib == w.lib)
            return;
    }
    const uint64_t wid = next_window_++;
    if (r.has_duration) w.timer = clock_.schedule_after(r.duration, [this, wid] { close_window(wid); });
    windows_.emplace(wid, std::move(w));
}

void FaultPlan::close_window(uint64_t wid) {
    auto it = windows_.find(wid);
    if (it == windows_.end()) return;
    Window w = std::move(it->second);
    windows_.erase(it);
    if (w.timer) clock_.cancel(w.timer);
    const std::string where = w.target ? w.target->lu->name() : w.lib->name() + "/changer";
    if (w.ie_door) {
        if (auto err = w.lib->close_ie_door()) spdlog::warn("[{}] fault #{} door: {}", where, w.rule, *err);
    }
    if (w.end_attention) w.lib->notify(*w.end_attention);
    spdlog::warn("[{}] fault #{} ends{}", where, w.rule,
                 w.ie_door         ? ": I/E door closed"
                 : w.end_attention ? ": door closed"
                                   : "");
}

void FaultPlan::start_event(Rule& r) {
    std::vector<Target*> hit;
    for (const auto& t : targets_) {
        if (matches_device(r, *t)) hit.push_back(t.get());
    }
    if (hit.empty() || r.retired() || !in_time(r)) return;
    if (r.action == Action::Door) hit.erase(hit.begin() + 1, hit.end());  // one library, one door
    std::string what;
    for (Target* t : hit) {
        switch (r.action) {
            case Action::UnitAttention:
                t->lu->unit_attentions().add_all(*r.asc);
                break;
            case Action::TapeAlert:
                if (t->drive) {
                    for (uint8_t f : r.flags) t->drive->alerts().raise(f);
                }
                break;
            default:
                open_window(r, *t);
                break;
        }
    }
    if (r.action == Action::UnitAttention) what = fmt::format("{:02X}/{:02X} for every nexus", r.asc->asc, r.asc->ascq);
    if (r.has_duration) {
        what += what.empty() ? "for " : " for ";
        what += describe(r.duration);
    }
    r.count = 1;
    record(r, r.device.empty() ? fmt::format("[{}]", r.library) : fmt::format("[{}/{}]", r.library, r.device), what);
}

// ---- commands ------------------------------------------------------------------------------

std::optional<Result> FaultPlan::before(LogicalUnit& lu, const TaskPtr& task, const CommandInfo& info) {
    Target* t = target_of(lu);
    const auto cdb = task->cdb();
    if (!t || cdb.empty()) return std::nullopt;
    const uint8_t opcode = cdb[0];

    for (const auto& [wid, w] : windows_) {
        if (w.target != t || !w.sense) continue;
        if (opcode == scsi::op::kRequestSense) {
            // The condition is the sense data REQUEST SENSE returns (DESC: byte 1 bit 0).
            scsi::CdbReader r(cdb);
            const auto format = r.bit(1, 0) ? scsi::SenseFormat::Descriptor : scsi::SenseFormat::Fixed;
            return Result::good(w.sense->encode(format), r.u8(4));
        }
        if (exempt_from_not_ready(opcode)) break;
        ++refused_not_ready_;
        lu.log().debug("[{}] tag={:#x} {} refused: fault #{} not ready", lu.name(), task->tag(), info.name, w.rule);
        return Result::check(*w.sense);
    }

    if (rules_.empty()) return std::nullopt;  // the usual case: every command passes through here
    const auto cov = coverage(t->drive, cdb);
    for (auto& [id, r] : rules_) {
        if (r.retired() || r.at || is_motion_action(r.action)) continue;
        if (!matches_device(r, *t)) continue;
        if (!r.commands.empty() && std::none_of(r.commands.begin(), r.commands.end(), [&](const CommandSel& c) {
                return c.opcode ? *c.opcode == opcode : c.name == info.name;
            })) {
            continue;
        }
        if (r.initiator && *r.initiator != task->nexus().initiator) continue;
        if (!in_time(r)) continue;
        if (!r.elements.empty()) {
            const auto& c = t->lib->config();
            bool hit = false;
            if (t->drive_address) hit = any_element(r, c, {*t->drive_address});
            if (t->changer) {
                for (uint16_t a : changer_addresses(cdb)) hit = hit || any_element(r, c, {a});
            }
            if (!hit) continue;
        }
        if (r.blocks && !(cov && cov->first <= r.blocks->second && cov->last() >= r.blocks->first)) continue;
        // What the action needs of the command.
        const bool read = cov && opcode == kRead6 && cov->length > 0;
        const bool write = cov && opcode == kWrite6 && cov->length > 0;
        bool eom_end = false;
        if (r.action == Action::MediumError && !read && !write) continue;
        if (r.action == Action::EarlyEom) {
            if (!cov || !(write || opcode == kWriteFilemarks6)) continue;
            eom_end = r.end_at && cov->last() >= *r.end_at;
            if (!eom_end && !early_warning_at(r, *t, cov->last())) continue;
        }
        if (r.action == Action::TapeAlert && !t->drive) continue;
        if (!fires(r)) continue;

        const std::string where = fmt::format("[{}] tag={:#x} {}", lu.name(), task->tag(), info.name);
        switch (r.action) {
            case Action::Delay: {
                const Task* key = task.get();
                const Clock::TimerId timer = clock_.schedule_after(r.duration, [this, key] {
                    auto it = held_.find(key);
                    if (it == held_.end()) return;
                    Held h = std::move(it->second);
                    held_.erase(it);
                    h.lu->run(h.task);
                });
                held_[key] = Held{task, &lu, id, timer};
                task->on_abort([this, key] {
                    if (auto it = held_.find(key); it != held_.end()) {
                        clock_.cancel(it->second.timer);
                        held_.erase(it);
                    }
                });
                record(r, where, describe(r.duration));
                return Result::pending();
            }
            case Action::Hang: {
                const Task* key = task.get();
                held_[key] = Held{task, &lu, id, 0};
                if (r.ignore_aborts) {
                    // A device deaf to task management: only removing the rule ends it.
                    task->ignore_aborts();
                    record(r, where, "ignoring aborts until the rule is removed");
                } else {
                    task->on_abort([this, key] { held_.erase(key); });
                    record(r, where, "until aborted");
                }
                return Result::pending();
            }
            case Action::CheckCondition:
                record(r, where, format_sense(*r.sense));
                return Result::check(*r.sense);
            case Action::Busy:
                record(r, where, "");
                return Result::with_status(scsi::Status::Busy);
            case Action::TaskSetFull:
                record(r, where, "");
                return Result::with_status(scsi::Status::TaskSetFull);
            case Action::ReservationConflict:
                record(r, where, "");
                return Result::with_status(scsi::Status::ReservationConflict);
            case Action::UnitAttention: {
                const auto& nexus = task->nexus();
                if (r.all_nexuses) lu.unit_attentions().add_all(*r.asc, &nexus);
                record(
                    r, where,
                    fmt::format("{:02X}/{:02X}{}", r.asc->asc, r.asc->ascq, r.all_nexuses ? " for every nexus" : ""));
                // Established just before this command arrived: reported now when the command
                // reports unit attentions, else queued for the nexus's next one.
                if (info.unit_attention == UnitAttentionRule::Report)
                    return Result::check(scsi::Sense::unit_attention(*r.asc));
                lu.unit_attentions().add(nexus, *r.asc);
                break;
            }
            case Action::NotReady:
            case Action::Offline:
            case Action::Door: {
                open_window(r, *t);
                record(r, where, r.has_duration ? "for " + describe(r.duration) : "until removed");
                // This command is the first to see it.
                for (const auto& [wid, w] : windows_) {
                    if (w.rule == id && w.target == t && w.sense) {
                        if (exempt_from_not_ready(opcode)) break;
                        ++refused_not_ready_;
                        return Result::check(*w.sense);
                    }
                }
                break;
            }
            case Action::TapeAlert: {
                std::string flags;
                for (uint8_t f : r.flags) {
                    t->drive->alerts().raise(f);
                    flags += fmt::format("{}{:02X}h", flags.empty() ? "" : ",", f);
                }
                record(r, where, flags);
                break;
            }
            case Action::MediumError: {
                const uint64_t bad = std::max(cov->first, r.blocks->first);
                if (write) {
                    // The write fails at the damaged block; nothing of this command is written.
                    const uint64_t residual = cov->length;  // blocks (fixed) or bytes (variable)
                    t->drive->statistics().write_errors++;
                    record(r, where, fmt::format("03/0C/00 at block {}", bad));
                    return Result::check(scsi::Sense(scsi::SenseKey::MediumError, kWriteError).information(residual));
                }
                // The drive's READ stops there (ssc/read_write.cpp): the blocks before it are
                // transferred and it is positioned after it, as a drive that gave up on it.
                t->drive->damage_read(task.get(), bad - cov->first);
                record(r, where, fmt::format("03/11/00 at block {}", bad));
                break;
            }
            case Action::EarlyEom: {
                if (eom_end) {
                    record(r, where, fmt::format("end of partition at block {}", *r.end_at));
                    return Result::check(
                        scsi::Sense(scsi::SenseKey::VolumeOverflow, scsi::asc::kEndOfPartitionMediumDetected)
                            .eom()
                            .information(cov->length));
                }
                AfterAction a;
                a.action = Action::EarlyEom;
                a.rule = id;
                after_[task.get()].push_back(a);
                record(r, where, fmt::format("early warning at block {}", *r.warning_at));
                break;
            }
            case Action::Corrupt: {
                AfterAction a;
                a.action = Action::Corrupt;
                a.rule = id;
                a.bits = r.bits;
                after_[task.get()].push_back(a);
                record(r, where, fmt::format("{} bit(s) of data-in", r.bits));
                break;
            }
            case Action::RefuseLoad:
            case Action::RefuseUnload:
            case Action::RobotRecovery:
                break;  // motions only
        }
    }
    return std::nullopt;
}

void FaultPlan::after(LogicalUnit& lu, const Task& task, Result& result) {
    if (const auto cdb = task.cdb(); !cdb.empty() && cdb[0] == kReadPosition) {
        if (const Target* t = target_of(lu)) early_warning_position(*t, result);
    }
    auto it = after_.find(&task);
    if (it == after_.end()) return;
    for (const AfterAction& a : it->second) {
        switch (a.action) {
            case Action::EarlyEom:
                if (result.status == scsi::Status::Good) {
                    result = Result::check(
                        scsi::Sense::no_sense(scsi::asc::kEndOfPartitionMediumDetected).eom().information(0));
                }
                break;
            case Action::Corrupt:
                if (result.data.empty()) break;
                for (uint32_t i = 0; i < a.bits; ++i) {
                    const uint64_t bit = rng_() % (uint64_t(result.data.size()) * 8);
                    result.data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
                }
                break;
            default:
                break;
        }
    }
}

void FaultPlan::completed(LogicalUnit& lu, const Task& task) {
    after_.erase(&task);
    held_.erase(&task);
    // A damaged-block note its READ never took (refused before its handler ran) goes with it.
    if (const Target* t = target_of(lu); t && t->drive) t->drive->take_read_damage(&task);
}

// ---- robot motions -------------------------------------------------------------------------

std::optional<smc::MotionFault> FaultPlan::motion_fault(library::Library& lib, uint16_t robot, const smc::Motion& m) {
    const std::string where =
        fmt::format("[{}/changer] motion {}->{} robot {}", lib.name(), hex(m.source), hex(m.destination), hex(robot));
    for (const auto& [wid, w] : windows_) {
        if (!w.changer_sense || !w.target || w.target->lib != &lib || !w.target->drive_address) continue;
        if (*w.target->drive_address != m.source && *w.target->drive_address != m.destination) continue;
        spdlog::warn("{} fault #{} offline drive: {}", where, w.rule, format_sense(*w.changer_sense));
        return smc::MotionFault{Duration::zero(), w.changer_sense};
    }
    const auto& cfg = lib.config();
    for (auto& [id, r] : rules_) {
        if (r.retired() || !is_motion_action(r.action)) continue;
        if (!r.library.empty() && r.library != lib.name()) continue;
        std::optional<uint16_t> named_drive;
        if (!r.device.empty() && r.device != "changer") {
            for (size_t i = 0; i < cfg.drives.size(); ++i) {
                if (cfg.drives[i].name == r.device) named_drive = static_cast<uint16_t>(cfg.addresses.drive + i);
            }
            if (!named_drive) continue;
        }
        uint16_t drive_end = 0;  // the drive element the refusal is about
        if (r.action == Action::RefuseLoad) {
            if (!lib.drive_at(m.destination)) continue;
            drive_end = m.destination;
        } else if (r.action == Action::RefuseUnload) {
            if (!lib.drive_at(m.source)) continue;
            drive_end = m.source;
        }
        if (named_drive &&
            (drive_end ? drive_end != *named_drive : (m.source != *named_drive && m.destination != *named_drive))) {
            continue;
        }
        if (!r.elements.empty() && !any_element(r, cfg, {m.source, m.destination})) continue;
        if (!in_time(r)) continue;
        if (!fires(r)) continue;
        record(
            r, where,
            fmt::format("recovery {} then {}", describe(r.duration), r.sense ? format_sense(*r.sense) : "carries on"));
        return smc::MotionFault{r.duration, r.sense};
    }
    return std::nullopt;
}

// ---- loading -------------------------------------------------------------------------------

std::vector<uint64_t> FaultPlan::load_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw FaultError(fmt::format("{}: cannot read the fault plan", file.string()));
    std::ostringstream text;
    text << in.rdbuf();
    return load_toml(text.str(), file.string());
}

}  // namespace vtl::fault
