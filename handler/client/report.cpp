#include "report.h"

#include <fmt/format.h>

#include <cmath>

namespace vtl::client {

namespace {

std::string hex16(uint16_t v) { return fmt::format("0x{:04X}", v); }

std::string sense_line(const SenseData& s) {
    std::string out = describe(s);
    if (s.information) out += fmt::format(", INFORMATION {}", *s.information);
    if (auto fp = s.field_pointer()) out += fmt::format(", field pointer byte {}", *fp);
    if (auto p = s.progress()) out += fmt::format(", progress {}", percent(*p));
    return out;
}

std::string status_line(const StatusBlock& b) {
    return fmt::format("{} -> {}, state {} ({}), {} s since accepted", hex16(b.source), hex16(b.destination), b.state,
                       to_string(static_cast<MoveState>(b.state)), b.seconds_since_accepted);
}

}  // namespace

std::string percent(uint16_t progress) { return fmt::format("{:.1f} %", progress * 100.0 / 65536.0); }

std::string step_text(const Step& s) {
    const std::string at = fmt::format("[{:7.1f} s]", s.elapsed_s);
    const std::string note = s.note.empty() ? "" : " (" + s.note + ")";
    switch (s.kind) {
        case StepKind::Sent:
            return s.query ? fmt::format("{} {} {} for token {}", at, s.command, s.query, s.token)
                           : fmt::format("{} {}", at, s.command);
        case StepKind::Accepted: {
            const TokenBlock& t = *s.token_block;
            const std::string estimate =
                t.estimate_s == kUnknownEstimate ? "unknown" : fmt::format("{} s", t.estimate_s);
            return fmt::format("{} accepted: token {}, estimate {}{}", at, t.token, estimate,
                               t.queued ? ", queued behind other motions" : "");
        }
        case StepKind::InProgress:
            return fmt::format("{} in progress: token {}, progress {} (query {}){}", at, s.token,
                               s.progress ? percent(*s.progress) : std::string("unknown"), s.query, note);
        case StepKind::Retry: {
            std::string what = s.error ? s.error->message : s.sense ? sense_line(*s.sense) : "";
            return fmt::format("{} {} sent again: {}{}", at, s.command, s.note, what.empty() ? "" : " [" + what + "]");
        }
        case StepKind::Completed:
            if (s.status) return fmt::format("{} done: token {}: {}", at, s.token, status_line(*s.status));
            return fmt::format("{} done: {} GOOD", at, s.command);
        case StepKind::Failed: {
            std::string what = s.sense ? sense_line(*s.sense) : fmt::format("SCSI status 0x{:02X}", s.scsi_status);
            if (s.status) what = status_line(*s.status) + (s.sense ? ": " + sense_line(*s.sense) : "");
            return fmt::format("{} failed: {}{}: {}{}", at, s.command,
                               s.token ? fmt::format(" (token {})", s.token) : "", what, note);
        }
        case StepKind::TransportFailure:
            return fmt::format("{} transport error: {}: {} ({}){}", at, s.command, s.error->message,
                               to_string(s.error->kind), note);
    }
    return "";
}

nlohmann::json sense_json(const SenseData& s) {
    nlohmann::json j{{"key", s.key},
                     {"asc", s.asc},
                     {"ascq", s.ascq},
                     {"text", describe(s)},
                     {"sense", fmt::format("{:02X}/{:02X}/{:02X}", s.key, s.asc, s.ascq)},
                     {"format", s.descriptor_format ? "descriptor" : "fixed"}};
    if (s.information) j["information"] = *s.information;
    if (auto p = s.progress()) j["progress"] = *p;
    if (auto fp = s.field_pointer()) j["field_pointer"] = *fp;
    return j;
}

nlohmann::json step_json(const Step& s) {
    nlohmann::json j{
        {"step", to_string(s.kind)}, {"command", s.command}, {"elapsed_s", std::round(s.elapsed_s * 1000) / 1000}};
    if (s.query) j["query"] = s.query;
    if (s.token) j["token"] = s.token;
    if (s.token_block) {
        j["estimate_s"] = s.token_block->estimate_s == kUnknownEstimate ? nlohmann::json(nullptr)
                                                                        : nlohmann::json(s.token_block->estimate_s);
        j["queued"] = s.token_block->queued;
    }
    if (s.progress) j["progress"] = *s.progress;
    if (s.status) {
        const StatusBlock& b = *s.status;
        j["status"] = {{"state", b.state},
                       {"state_text", to_string(static_cast<MoveState>(b.state))},
                       {"progress", b.progress},
                       {"source", b.source},
                       {"destination", b.destination},
                       {"token", b.token},
                       {"seconds_since_accepted", b.seconds_since_accepted}};
        if (b.sense) j["status"]["sense"] = sense_json(*b.sense);
    }
    if (s.kind != StepKind::Sent && s.kind != StepKind::TransportFailure) j["scsi_status"] = s.scsi_status;
    if (s.sense) j["sense"] = sense_json(*s.sense);
    if (s.error) j["transport_error"] = {{"kind", to_string(s.error->kind)}, {"message", s.error->message}};
    if (!s.note.empty()) j["note"] = s.note;
    return j;
}

std::string element_text(const ElementDescriptor& e) {
    std::string out = fmt::format("{} {}: {}", to_string(e.type), hex16(e.address), e.full ? "full" : "empty");
    if (!e.volume_tag.empty()) out += " " + e.volume_tag;
    if (e.source) out += fmt::format(", from {}", hex16(*e.source));
    if (e.except) out += fmt::format(", exception {:02X}/{:02X} {}", e.asc, e.ascq, asc_text(e.asc, e.ascq));
    return out;
}

nlohmann::json element_json(const ElementDescriptor& e) {
    nlohmann::json j{{"step", "element"}, {"type", to_string(e.type)}, {"address", e.address}, {"full", e.full}};
    j["volume_tag"] = e.volume_tag.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.volume_tag);
    j["source"] = e.source ? nlohmann::json(*e.source) : nlohmann::json(nullptr);
    if (e.except) j["exception"] = fmt::format("{:02X}/{:02X}", e.asc, e.ascq);
    return j;
}

}  // namespace vtl::client
