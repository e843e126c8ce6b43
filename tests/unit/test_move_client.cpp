// The host-side move client (handler/client): its bytes against the tables of async-move.md and
// SPC/SMC, its sense parser against the emulator's own sense builder, and the async loop's decisions
// against a transport that replays answers (the real round trip is tests/vm/90-async-move.sh).
#include <gtest/gtest.h>

#include <deque>

#include "client/mover.h"
#include "client/report.h"
#include "scsi/sense.h"

namespace {

using namespace vtl::client;
using Bytes = std::vector<uint8_t>;
using vtl::scsi::Sense;
using vtl::scsi::SenseFormat;
using vtl::scsi::SenseKey;
namespace asc = vtl::scsi::asc;
using namespace std::chrono_literals;

// ---- CDBs: the spec's byte tables ----

TEST(MoveClientCdb, AsyncMoveMedium) {
    // C5h; byte 1 0 (INVERT off); transport 2-3; source 4-5; destination 6-7; ALLOCATION 8; CONTROL.
    EXPECT_EQ(async_move_cdb(0xC5, 0x0000, 0x1000, 0x0100),
              (Bytes{0xC5, 0x00, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x08, 0x00}));
    EXPECT_EQ(async_move_cdb(0xD0, 0x0001, 0x0010, 0x100B, 0),
              (Bytes{0xD0, 0x00, 0x00, 0x01, 0x00, 0x10, 0x10, 0x0B, 0x00, 0x00}));
}

TEST(MoveClientCdb, MoveQuery) {
    // C6h; RELEASE bit 0 of byte 1; token 2-5; WAIT TIME 6; ALLOCATION LENGTH 7-8; CONTROL.
    EXPECT_EQ(move_query_cdb(0xC6, 0x01020304, 30, true),
              (Bytes{0xC6, 0x01, 0x01, 0x02, 0x03, 0x04, 0x1E, 0x00, 0x24, 0x00}));
    EXPECT_EQ(move_query_cdb(0xC6, 7, 255, false, 0x0123),
              (Bytes{0xC6, 0x00, 0x00, 0x00, 0x00, 0x07, 0xFF, 0x01, 0x23, 0x00}));
}

TEST(MoveClientCdb, MoveMediumAndReadElementStatus) {
    // MOVE MEDIUM (SMC-3): 12 bytes, transport 2-3, source 4-5, destination 6-7, INVERT in 10.
    EXPECT_EQ(move_medium_cdb(0, 0x1000, 0x0100), (Bytes{0xA5, 0, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0, 0, 0, 0}));
    // READ ELEMENT STATUS: VOLTAG, all types, start 2-3, count 4-5, allocation 7-9.
    EXPECT_EQ(read_element_status_cdb(0x0100, 1, 1024),
              (Bytes{0xB8, 0x10, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00}));
}

// ---- token block and status block ----

TEST(MoveClientBlocks, TokenBlock) {
    auto t = parse_token_block(Bytes{0x00, 0x00, 0x00, 0x07, 0x00, 0x1A, 0x01, 0x00});
    ASSERT_TRUE(t);
    EXPECT_EQ(t->token, 7u);
    EXPECT_EQ(t->estimate_s, 26);
    EXPECT_TRUE(t->queued);
    t = parse_token_block(Bytes{0xDE, 0xAD, 0xBE, 0xEF, 0xFF, 0xFF, 0x00, 0x00});
    ASSERT_TRUE(t);
    EXPECT_EQ(t->token, 0xDEADBEEFu);
    EXPECT_EQ(t->estimate_s, kUnknownEstimate);
    EXPECT_FALSE(t->queued);
    // Too short (allocation length cut it), or token 0 (never valid).
    EXPECT_FALSE(parse_token_block(Bytes{0, 0, 0, 7, 0, 0, 0}));
    EXPECT_FALSE(parse_token_block(Bytes{0, 0, 0, 0, 0, 5, 0, 0}));
}

Bytes status_block_done_with_error() {
    // DATA LENGTH 34, STATE 3, progress FFFFh, 0x1000 -> 0x0100, token 7, 780 s, then the move's sense.
    return Bytes{
        0x00, 0x22, 0x03, 0x00, 0xFF, 0xFF, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x03, 0x0C,
        // fixed sense 04/15/01, VALID, INFORMATION 7
        0xF0, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x15, 0x01, 0x00, 0x00, 0x00, 0x00};
}

TEST(MoveClientBlocks, StatusBlockWithSense) {
    auto b = parse_status_block(status_block_done_with_error());
    ASSERT_TRUE(b);
    EXPECT_EQ(b->state, 3);
    EXPECT_EQ(b->progress, 0xFFFF);
    EXPECT_EQ(b->source, 0x1000);
    EXPECT_EQ(b->destination, 0x0100);
    EXPECT_EQ(b->token, 7u);
    EXPECT_EQ(b->seconds_since_accepted, 780u);
    ASSERT_TRUE(b->sense);
    EXPECT_TRUE(b->sense->is(0x04, 0x15, 0x01));
    EXPECT_EQ(b->sense->information, 7u);
}

TEST(MoveClientBlocks, StatusBlockTruncatedAndWithoutSense) {
    Bytes ok(36, 0);
    ok[1] = 0x22;
    ok[2] = 0x02;
    ok[13] = 0x09;
    auto b = parse_status_block(ok);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->state, 2);
    EXPECT_EQ(b->token, 9u);
    EXPECT_FALSE(b->sense);  // all zero: none
    // ALLOCATION LENGTH 18: everything but the sense.
    auto cut = status_block_done_with_error();
    cut.resize(18);
    b = parse_status_block(cut);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->seconds_since_accepted, 780u);
    EXPECT_FALSE(b->sense);
    cut.resize(17);
    EXPECT_FALSE(parse_status_block(cut));
}

// ---- sense ----

TEST(MoveClientSense, FixedInProgressGolden) {
    // The spec's "not done yet": 02/04/07, VALID, INFORMATION = token, SKSV with progress 8000h.
    const Bytes b{0xF0, 0x00, 0x02, 0x00, 0x00, 0x00, 0x07, 0x0A, 0x00,
                  0x00, 0x00, 0x00, 0x04, 0x07, 0x00, 0x80, 0x80, 0x00};
    auto s = parse_sense(b);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->descriptor_format);
    EXPECT_TRUE(s->is(0x02, 0x04, 0x07));
    EXPECT_EQ(s->information, 7u);
    EXPECT_EQ(s->progress(), 0x8000);
    EXPECT_EQ(describe(*s), "NOT READY 02/04/07 LOGICAL UNIT NOT READY, OPERATION IN PROGRESS");
    EXPECT_EQ(percent(*s->progress()), "50.0 %");
}

TEST(MoveClientSense, DescriptorInProgressGolden) {
    // 72h: key/ASC/ASCQ in 1-3; information descriptor (00h, VALID) and sense-key-specific (02h).
    const Bytes b{0x72, 0x02, 0x04, 0x07, 0x00, 0x00, 0x00, 0x18, 0x00, 0x0A, 0x80, 0x00, 0x00, 0x00,
                  0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x02, 0x06, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00};
    auto s = parse_sense(b);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->descriptor_format);
    EXPECT_TRUE(s->is(0x02, 0x04, 0x07));
    EXPECT_EQ(s->information, 7u);
    EXPECT_EQ(s->progress(), 0x4000);
}

TEST(MoveClientSense, InformationOnlyWhenValidAndLengthRespected) {
    // VALID=0: INFORMATION bytes are not information.
    Bytes b{0x70, 0x00, 0x05, 0x00, 0x00, 0x00, 0x07, 0x0A, 0, 0, 0, 0, 0x24, 0x00, 0, 0xC8, 0x00, 0x02};
    auto s = parse_sense(b);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->information);
    EXPECT_EQ(s->field_pointer(), 2);
    EXPECT_FALSE(s->progress());
    // ADDITIONAL SENSE LENGTH 6: ASC/ASCQ are past it, whatever the buffer holds.
    b[7] = 0x04;
    s = parse_sense(b);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->asc, 0);
    EXPECT_FALSE(s->key_specific);
    EXPECT_FALSE(parse_sense(Bytes{}));
    EXPECT_FALSE(parse_sense(Bytes{0x7F, 0, 5}));
}

TEST(MoveClientSense, AgreesWithTheEmulatorsBuilderInBothFormats) {
    const Sense cases[] = {
        Sense::not_ready(asc::kOperationInProgress).information(0x12345678).progress(0x1234),
        Sense(SenseKey::HardwareError, vtl::scsi::Asc{0x15, 0x01}).information(42),
        Sense::invalid_cdb_field(2),
        Sense::aborted_command(asc::kLogicalUnitCommunicationTimeout),
    };
    for (const auto& want : cases) {
        for (auto format : {SenseFormat::Fixed, SenseFormat::Descriptor}) {
            auto s = parse_sense(want.encode(format));
            ASSERT_TRUE(s);
            EXPECT_EQ(s->descriptor_format, format == SenseFormat::Descriptor);
            EXPECT_EQ(s->key, static_cast<uint8_t>(want.key()));
            EXPECT_EQ(s->asc, want.code().asc);
            EXPECT_EQ(s->ascq, want.code().ascq);
            EXPECT_EQ(s->information, want.information());
        }
    }
    auto p = parse_sense(cases[0].encode(SenseFormat::Descriptor));
    EXPECT_EQ(p->progress(), 0x1234);
    auto f = parse_sense(cases[2].encode(SenseFormat::Fixed));
    EXPECT_EQ(f->field_pointer(), 2);
}

TEST(MoveClientSense, Texts) {
    EXPECT_EQ(asc_text(0x3B, 0x0E), "MEDIUM SOURCE ELEMENT EMPTY");
    EXPECT_EQ(asc_text(0x08, 0x01), "LOGICAL UNIT COMMUNICATION TIME-OUT");
    EXPECT_EQ(asc_text(0x99, 0x99), "");
    EXPECT_EQ(sense_key_name(0x0B), "ABORTED COMMAND");
    EXPECT_EQ(sense_key_name(0x0C), "sense key 0Ch");
    EXPECT_EQ(describe(SenseData{.key = 4, .asc = 0x15, .ascq = 1}),
              "HARDWARE ERROR 04/15/01 MECHANICAL POSITIONING ERROR");
    EXPECT_EQ(describe(SenseData{.key = 9, .asc = 0x80, .ascq = 3}), "VENDOR SPECIFIC 09/80/03");
}

// ---- READ ELEMENT STATUS ----

Bytes drive_element_page() {
    // Header: first 0x0100, 1 element, 60 bytes of report. Page: type 4 (drive), PVOLTAG, descriptor
    // length 52, 52 bytes. Descriptor: 0x0100 FULL|ACCESS, SVALID source 0x1000, tag "VTL001L8".
    Bytes b{0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x04, 0x80, 0x00, 0x34, 0x00, 0x00,
            0x00, 0x34, 0x01, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x10, 0x00};
    const std::string tag = "VTL001L8";
    for (size_t i = 0; i < 36; ++i) b.push_back(i < tag.size() ? uint8_t(tag[i]) : (i < 32 ? ' ' : 0));
    b.insert(b.end(), 4, 0);  // to the descriptor length
    return b;
}

TEST(MoveClientElements, DriveDescriptorGolden) {
    auto st = parse_element_status(drive_element_page());
    ASSERT_EQ(st.error, "");
    ASSERT_EQ(st.elements.size(), 1u);
    const auto& e = st.elements[0];
    EXPECT_EQ(e.type, ElementType::DataTransfer);
    EXPECT_EQ(e.address, 0x0100);
    EXPECT_TRUE(e.full);
    EXPECT_TRUE(e.access);
    EXPECT_EQ(e.source, 0x1000);
    EXPECT_EQ(e.volume_tag, "VTL001L8");
    EXPECT_EQ(element_text(e), "drive 0x0100: full VTL001L8, from 0x1000");
    EXPECT_EQ(element_json(e).dump(),
              R"({"address":256,"full":true,"source":4096,"step":"element","type":"drive","volume_tag":"VTL001L8"})");
}

TEST(MoveClientElements, EmptySlotAndMalformed) {
    // A storage page without volume tags: descriptor length 12.
    const Bytes b{0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x14, 0x02, 0x00, 0x00, 0x0C, 0x00, 0x00,
                  0x00, 0x0C, 0x10, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    auto st = parse_element_status(b);
    ASSERT_EQ(st.elements.size(), 1u);
    EXPECT_EQ(element_text(st.elements[0]), "slot 0x1000: empty");
    EXPECT_FALSE(st.elements[0].source);
    Bytes bad = b;
    bad[11] = 0x04;  // descriptor length 4
    EXPECT_NE(parse_element_status(bad).error, "");
    EXPECT_NE(parse_element_status(Bytes{1, 2, 3}).error, "");
}

TEST(MoveClientNumbers, DecimalAndHex) {
    EXPECT_EQ(parse_number("4096", 0xFFFF), 4096u);
    EXPECT_EQ(parse_number("0x1000", 0xFFFF), 4096u);
    EXPECT_EQ(parse_number("0XfF", 0xFF), 255u);
    EXPECT_FALSE(parse_number("0x10000", 0xFFFF));
    EXPECT_FALSE(parse_number("12a", 0xFFFF));
    EXPECT_FALSE(parse_number("0x", 0xFFFF));
    EXPECT_FALSE(parse_number("-1", 0xFFFF));
    EXPECT_FALSE(parse_number("", 0xFFFF));
}

// ---- the loop, against replayed answers ----

// Replays answers in order; each answer may take virtual time. Records every request.
class ReplayTransport : public Transport {
public:
    struct Answer {
        ScsiOutcome outcome;
        std::chrono::milliseconds takes{0};
    };
    std::deque<Answer> answers;
    std::vector<ScsiRequest> requests;
    std::chrono::nanoseconds now{1s};

    ScsiOutcome execute(const ScsiRequest& r) override {
        requests.push_back(r);
        if (answers.empty()) {
            ADD_FAILURE() << "no answer left for the request " << requests.size();
            return TransportError{TransportError::Kind::Connection, "replay exhausted"};
        }
        Answer a = std::move(answers.front());
        answers.pop_front();
        now += a.takes;
        return a.outcome;
    }
    std::string name() const override { return "replay"; }

    Timebase time() {
        return Timebase{[this] { return now; }, [this](std::chrono::milliseconds d) { now += d; }};
    }
    void good(Bytes data, std::chrono::milliseconds takes = 0ms) {
        answers.push_back({ScsiResponse{kStatusGood, {}, std::move(data), 0}, takes});
    }
    void check(const Sense& s, std::chrono::milliseconds takes = 0ms) {
        answers.push_back({ScsiResponse{kStatusCheckCondition, s.encode(SenseFormat::Fixed), {}, 0}, takes});
    }
    void in_progress(uint32_t token, uint16_t progress, std::chrono::milliseconds takes) {
        check(Sense::not_ready(asc::kOperationInProgress).information(token).progress(progress), takes);
    }
};

Bytes token_block(uint32_t token, uint16_t estimate, bool queued) {
    return Bytes{uint8_t(token >> 24),   uint8_t(token >> 16), uint8_t(token >> 8),     uint8_t(token),
                 uint8_t(estimate >> 8), uint8_t(estimate),    uint8_t(queued ? 1 : 0), 0};
}

Bytes done_block(uint32_t token, uint16_t src, uint16_t dst, uint32_t seconds) {
    Bytes b(36, 0);
    b[1] = 34;
    b[2] = 2;
    b[4] = b[5] = 0xFF;
    b[6] = uint8_t(src >> 8), b[7] = uint8_t(src);
    b[8] = uint8_t(dst >> 8), b[9] = uint8_t(dst);
    b[10] = uint8_t(token >> 24), b[11] = uint8_t(token >> 16), b[12] = uint8_t(token >> 8), b[13] = uint8_t(token);
    b[14] = uint8_t(seconds >> 24), b[15] = uint8_t(seconds >> 16), b[16] = uint8_t(seconds >> 8),
    b[17] = uint8_t(seconds);
    return b;
}

struct LoopRun {
    ReplayTransport t;
    std::vector<Step> steps;  // without Sent
    std::vector<Step> all;
    MoveOptions o{.source = 0x1000, .destination = 0x0100};

    Mover mover() {
        return Mover(t, t.time(), [this](const Step& s) {
            all.push_back(s);
            if (s.kind != StepKind::Sent) steps.push_back(s);
        });
    }
    std::vector<StepKind> kinds() const {
        std::vector<StepKind> k;
        for (const auto& s : steps) k.push_back(s.kind);
        return k;
    }
};

TEST(MoveClientLoop, InProgressTwiceThenGood) {
    LoopRun r;
    r.t.good(token_block(7, 26, true));
    r.t.in_progress(7, 0x4000, 255s);
    r.t.in_progress(7, 0x8000, 255s);
    r.t.good(done_block(7, 0x1000, 0x0100, 520), 10s);
    EXPECT_EQ(r.mover().async_move(r.o), MoveOutcome::Success);
    EXPECT_TRUE(r.t.answers.empty());

    using K = StepKind;
    EXPECT_EQ(r.kinds(), (std::vector<K>{K::Accepted, K::InProgress, K::InProgress, K::Completed}));
    ASSERT_EQ(r.t.requests.size(), 4u);
    EXPECT_EQ(r.t.requests[0].cdb, (Bytes{0xC5, 0, 0, 0, 0x10, 0x00, 0x01, 0x00, 0x08, 0}));
    EXPECT_EQ(r.t.requests[0].data_in, 8u);
    for (size_t i = 1; i < 4; ++i) {
        EXPECT_EQ(r.t.requests[i].cdb, (Bytes{0xC6, 0x00, 0, 0, 0, 7, 0xFF, 0x00, 0x24, 0})) << i;
        EXPECT_EQ(r.t.requests[i].data_in, 36u);
        EXPECT_EQ(r.t.requests[i].timeout, 255s + 60s);  // WAIT TIME plus the margin
    }
    EXPECT_EQ(r.steps[0].token_block->estimate_s, 26);
    EXPECT_TRUE(r.steps[0].token_block->queued);
    EXPECT_EQ(r.steps[1].progress, 0x4000);
    EXPECT_EQ(r.steps[1].query, 1);
    EXPECT_DOUBLE_EQ(r.steps[1].elapsed_s, 255.0);
    EXPECT_EQ(r.steps[2].progress, 0x8000);
    EXPECT_DOUBLE_EQ(r.steps[2].elapsed_s, 510.0);
    EXPECT_DOUBLE_EQ(r.steps[3].elapsed_s, 520.0);
    ASSERT_TRUE(r.steps[3].status);
    EXPECT_EQ(r.steps[3].status->seconds_since_accepted, 520u);

    EXPECT_EQ(step_text(r.steps[0]), "[    0.0 s] accepted: token 7, estimate 26 s, queued behind other motions");
    EXPECT_EQ(step_text(r.steps[2]), "[  510.0 s] in progress: token 7, progress 50.0 % (query 2)");
    EXPECT_EQ(step_text(r.steps[3]),
              "[  520.0 s] done: token 7: 0x1000 -> 0x0100, state 2 (done OK), 520 s since accepted");
    auto j = step_json(r.steps[0]);
    EXPECT_EQ(j["step"], "accepted");
    EXPECT_EQ(j["token"], 7);
    EXPECT_EQ(j["estimate_s"], 26);
    EXPECT_EQ(j["queued"], true);
    j = step_json(r.steps[1]);
    EXPECT_EQ(j["step"], "in_progress");
    EXPECT_EQ(j["progress"], 0x4000);
    EXPECT_EQ(j["sense"]["sense"], "02/04/07");
    EXPECT_EQ(j["sense"]["information"], 7);
    EXPECT_EQ(step_json(r.steps[3])["status"]["state_text"], "done OK");
}

TEST(MoveClientLoop, InProgressThenTheMovesOwnFailure) {
    LoopRun r;
    r.o.release = true;
    r.o.wait_s = 30;
    r.t.good(token_block(0x0A0B0C0D, 0xFFFF, false));
    r.t.in_progress(0x0A0B0C0D, 0x1000, 30s);
    r.t.check(Sense(SenseKey::HardwareError, vtl::scsi::Asc{0x15, 0x01}).information(0x0A0B0C0D), 12s);
    EXPECT_EQ(r.mover().async_move(r.o), MoveOutcome::DeviceFailure);

    using K = StepKind;
    EXPECT_EQ(r.kinds(), (std::vector<K>{K::Accepted, K::InProgress, K::Failed}));
    // RELEASE and WAIT TIME 30 on every query.
    EXPECT_EQ(r.t.requests[2].cdb, (Bytes{0xC6, 0x01, 0x0A, 0x0B, 0x0C, 0x0D, 30, 0x00, 0x24, 0}));
    const Step& f = r.steps[2];
    ASSERT_TRUE(f.sense);
    EXPECT_TRUE(f.sense->is(0x04, 0x15, 0x01));
    EXPECT_EQ(f.sense->information, 0x0A0B0C0Du);
    EXPECT_EQ(f.note, "the move failed; the sense is the move's own");
    EXPECT_EQ(step_text(f),
              "[   42.0 s] failed: MOVE QUERY (token 168496141): HARDWARE ERROR 04/15/01 MECHANICAL POSITIONING "
              "ERROR, INFORMATION 168496141 (the move failed; the sense is the move's own)");
    EXPECT_EQ(step_text(r.steps[0]), "[    0.0 s] accepted: token 168496141, estimate unknown");
    EXPECT_TRUE(step_json(r.steps[0])["estimate_s"].is_null());
}

TEST(MoveClientLoop, UnknownToken) {
    LoopRun r;
    r.t.good(token_block(3, 5, false));
    r.t.check(Sense::invalid_cdb_field(2));
    EXPECT_EQ(r.mover().async_move(r.o), MoveOutcome::DeviceFailure);
    ASSERT_EQ(r.steps.size(), 2u);
    const Step& f = r.steps[1];
    EXPECT_EQ(f.kind, StepKind::Failed);
    EXPECT_TRUE(f.sense->is(0x05, 0x24, 0x00));
    EXPECT_EQ(f.sense->field_pointer(), 2);
    EXPECT_EQ(f.note, "the device does not know this token (released, expired, or never made)");
    EXPECT_EQ(step_json(f)["sense"]["field_pointer"], 2);
}

TEST(MoveClientLoop, RefusedAtOnceSendsNoQuery) {
    LoopRun r;
    r.t.check(Sense::illegal_request(asc::kMediumSourceElementEmpty));
    EXPECT_EQ(r.mover().async_move(r.o), MoveOutcome::DeviceFailure);
    EXPECT_EQ(r.t.requests.size(), 1u);
    ASSERT_EQ(r.steps.size(), 1u);
    EXPECT_EQ(r.steps[0].command, "ASYNC MOVE MEDIUM");
    EXPECT_EQ(step_text(r.steps[0]),
              "[    0.0 s] failed: ASYNC MOVE MEDIUM: ILLEGAL REQUEST 05/3B/0E MEDIUM SOURCE ELEMENT EMPTY");
}

TEST(MoveClientLoop, QueriesSurviveUnitAttentionBridgeTimeoutAndTransportTimeout) {
    LoopRun r;
    r.o.wait_s = 10;
    r.t.good(token_block(5, 60, false));
    r.t.check(Sense::unit_attention(asc::kPowerOnResetOccurred));                   // after a LUN reset
    r.t.check(Sense::aborted_command(asc::kLogicalUnitCommunicationTimeout), 12s);  // the bridge's timer
    r.t.answers.push_back({TransportError{TransportError::Kind::Timeout, "no answer"}, 70s});
    r.t.in_progress(5, 0xC000, 10s);
    r.t.good(done_block(5, 0x1000, 0x0100, 99), 5s);
    EXPECT_EQ(r.mover().async_move(r.o), MoveOutcome::Success);
    using K = StepKind;
    EXPECT_EQ(r.kinds(), (std::vector<K>{K::Accepted, K::Retry, K::Retry, K::Retry, K::InProgress, K::Completed}));
    EXPECT_EQ(r.steps[1].note, "unit attention: the command was not executed");
    EXPECT_TRUE(r.steps[1].sense->is(0x06, 0x29, 0x00));
    EXPECT_EQ(r.steps[2].note, "a bridge timed the query out: WAIT TIME 10 s is longer than its timer");
    EXPECT_EQ(r.steps[3].error->kind, TransportError::Kind::Timeout);
    // The same query every time.
    for (size_t i = 2; i < r.t.requests.size(); ++i) EXPECT_EQ(r.t.requests[i].cdb, r.t.requests[1].cdb);
    EXPECT_DOUBLE_EQ(r.steps.back().elapsed_s, 97.0);
}

TEST(MoveClientLoop, RetriesAreBounded) {
    LoopRun r;
    r.o.retries = 2;
    r.t.good(token_block(5, 60, false));
    for (int i = 0; i < 3; ++i) r.t.answers.push_back({TransportError{TransportError::Kind::Timeout, "no answer"}, 1s});
    EXPECT_EQ(r.mover().async_move(r.o), MoveOutcome::TransportFailure);
    EXPECT_EQ(r.t.requests.size(), 4u);
    EXPECT_EQ(r.steps.back().kind, StepKind::TransportFailure);
    EXPECT_EQ(r.steps.back().note, "the move (token 5) runs on; query it again later");
}

TEST(MoveClientLoop, GoodWithoutStatusBlockIsAskedAgainThenAProtocolError) {
    // A query cancelled by the same host's LUN reset comes back GOOD with no data over tcm_loop.
    LoopRun r;
    r.o.retries = 1;
    r.t.good(token_block(5, 60, false));
    r.t.good({});
    r.t.good(done_block(5, 0x1000, 0x0100, 9));
    EXPECT_EQ(r.mover().async_move(r.o), MoveOutcome::Success);
    using K = StepKind;
    EXPECT_EQ(r.kinds(), (std::vector<K>{K::Accepted, K::Retry, K::Completed}));
    EXPECT_EQ(r.steps[1].note, "GOOD without a status block (0 bytes; a query cancelled by a reset?): asking again");

    LoopRun twice;
    twice.o.retries = 1;
    twice.t.good(token_block(5, 60, false));
    twice.t.good({});
    twice.t.good(Bytes(10, 0));
    EXPECT_EQ(twice.mover().async_move(twice.o), MoveOutcome::TransportFailure);
    EXPECT_EQ(twice.steps.back().error->kind, TransportError::Kind::Protocol);
    EXPECT_EQ(twice.steps.back().error->message, "GOOD with 10 bytes of status block, expected 36");
}

TEST(MoveClientLoop, WaitZeroPollsWithAPause) {
    LoopRun r;
    r.o.wait_s = 0;
    r.t.good(token_block(5, 2, false));
    r.t.in_progress(5, 0, 0ms);
    r.t.good(done_block(5, 0x1000, 0x0100, 1));
    EXPECT_EQ(r.mover().async_move(r.o), MoveOutcome::Success);
    EXPECT_DOUBLE_EQ(r.steps.back().elapsed_s, 1.0);  // one 1 s pause, no spinning
}

TEST(MoveClientLoop, ConfiguredOpcodes) {
    LoopRun r;
    r.o.move_opcode = 0xD0;
    r.o.query_opcode = 0xD1;
    r.o.transport = 1;
    r.t.good(token_block(1, 1, false));
    r.t.good(done_block(1, 0x1000, 0x0100, 1));
    EXPECT_EQ(r.mover().async_move(r.o), MoveOutcome::Success);
    EXPECT_EQ(r.t.requests[0].cdb[0], 0xD0);
    EXPECT_EQ(r.t.requests[0].cdb[3], 0x01);
    EXPECT_EQ(r.t.requests[1].cdb[0], 0xD1);
}

TEST(MoveClientLoop, ShortTokenBlockIsAProtocolError) {
    LoopRun r;
    r.t.good(Bytes{0, 0, 0, 1});
    EXPECT_EQ(r.mover().async_move(r.o), MoveOutcome::TransportFailure);
    EXPECT_EQ(r.steps.back().error->kind, TransportError::Kind::Protocol);
}

TEST(MoveClientSync, GoodAfterUnitAttention) {
    LoopRun r;
    r.o.sync_timeout = 20s;
    r.t.check(Sense::unit_attention(asc::kPowerOnOccurred));
    r.t.good({}, 3s);
    EXPECT_EQ(r.mover().sync_move(r.o), MoveOutcome::Success);
    ASSERT_EQ(r.t.requests.size(), 2u);
    EXPECT_EQ(r.t.requests[1].cdb, move_medium_cdb(0, 0x1000, 0x0100));
    EXPECT_EQ(r.t.requests[1].timeout, 20s);
    EXPECT_EQ(r.t.requests[1].data_in, 0u);
    EXPECT_EQ(step_text(r.steps.back()), "[    3.0 s] done: MOVE MEDIUM GOOD");
}

TEST(MoveClientSync, BridgeTimeoutIsAFailureNotRetried) {
    LoopRun r;
    r.t.check(Sense::aborted_command(asc::kLogicalUnitCommunicationTimeout), 12s);
    EXPECT_EQ(r.mover().sync_move(r.o), MoveOutcome::DeviceFailure);
    EXPECT_EQ(r.t.requests.size(), 1u);
    EXPECT_TRUE(r.steps.back().sense->is(0x0B, 0x08, 0x01));
    EXPECT_EQ(step_json(r.steps.back())["sense"]["text"],
              "ABORTED COMMAND 0B/08/01 LOGICAL UNIT COMMUNICATION TIME-OUT");
}

TEST(MoveClientSync, TransportTimeout) {
    LoopRun r;
    r.t.answers.push_back({TransportError{TransportError::Kind::Timeout, "/dev/sg9: no answer"}, 900s});
    EXPECT_EQ(r.mover().sync_move(r.o), MoveOutcome::TransportFailure);
    EXPECT_EQ(r.t.requests.size(), 1u);
    EXPECT_EQ(step_json(r.steps.back())["transport_error"]["kind"], "timeout");
}

TEST(MoveClientElements, ThroughTheMover) {
    LoopRun r;
    r.t.good(drive_element_page());
    auto m = r.mover();
    std::string error;
    auto e = m.element(0x0100, error);
    ASSERT_TRUE(e) << error;
    EXPECT_EQ(e->volume_tag, "VTL001L8");
    EXPECT_EQ(r.t.requests[0].cdb, read_element_status_cdb(0x0100, 1, 1024));
    r.t.good(drive_element_page());
    EXPECT_FALSE(m.element(0x0101, error));
    EXPECT_EQ(error, "no element at 0x0101");
    r.t.check(Sense::illegal_request(vtl::scsi::Asc{0x21, 0x01}));
    EXPECT_FALSE(m.element(0x7777, error));
    EXPECT_EQ(error, "ILLEGAL REQUEST 05/21/01 INVALID ELEMENT ADDRESS");
}

}  // namespace
