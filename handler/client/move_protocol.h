// The bytes of the move commands as a host sends and reads them: CDB builders and parsers for
// MOVE MEDIUM, ASYNC MOVE MEDIUM, MOVE QUERY (docs: ../shared/specs/async-move.md) and READ ELEMENT
// STATUS, and a sense parser for fixed and descriptor format. Pure functions, no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vtl::client {

constexpr uint8_t kMoveMediumOpcode = 0xA5;
constexpr uint8_t kReadElementStatusOpcode = 0xB8;
constexpr uint8_t kDefaultAsyncMoveOpcode = 0xC5;
constexpr uint8_t kDefaultMoveQueryOpcode = 0xC6;
constexpr size_t kTokenBlockSize = 8;
constexpr size_t kStatusBlockSize = 36;
constexpr uint16_t kUnknownEstimate = 0xFFFF;

// SCSI status bytes the client acts on.
constexpr uint8_t kStatusGood = 0x00;
constexpr uint8_t kStatusCheckCondition = 0x02;
constexpr uint8_t kStatusBusy = 0x08;
constexpr uint8_t kStatusReservationConflict = 0x18;
constexpr uint8_t kStatusTaskSetFull = 0x28;

// MOVE MEDIUM (A5h), 12 bytes.
std::vector<uint8_t> move_medium_cdb(uint16_t transport, uint16_t source, uint16_t destination);
// ASYNC MOVE MEDIUM, 10 bytes; allocation 8 asks for the whole token block.
std::vector<uint8_t> async_move_cdb(uint8_t opcode, uint16_t transport, uint16_t source, uint16_t destination,
                                    uint8_t allocation = kTokenBlockSize);
// MOVE QUERY, 10 bytes.
std::vector<uint8_t> move_query_cdb(uint8_t opcode, uint32_t token, uint8_t wait_s, bool release,
                                    uint16_t allocation = kStatusBlockSize);
// READ ELEMENT STATUS (B8h), 12 bytes, every element type, with VOLTAG.
std::vector<uint8_t> read_element_status_cdb(uint16_t start, uint16_t count, uint32_t allocation);

// ASYNC MOVE MEDIUM's answer.
struct TokenBlock {
    uint32_t token = 0;
    uint16_t estimate_s = kUnknownEstimate;  // FFFFh: unknown
    bool queued = false;
};
// nullopt when shorter than 8 bytes or the token is 0 (never a valid token).
std::optional<TokenBlock> parse_token_block(std::span<const uint8_t> data);

// A decoded sense, fixed (70h/71h) or descriptor (72h/73h) format.
struct SenseData {
    bool descriptor_format = false;
    bool deferred = false;
    uint8_t key = 0;
    uint8_t asc = 0;
    uint8_t ascq = 0;
    bool filemark = false, eom = false, ili = false;
    std::optional<uint64_t> information;                 // only when VALID
    std::optional<std::array<uint8_t, 3>> key_specific;  // only when SKSV

    // PROGRESS INDICATION (NOT READY / NO SENSE with SKSV).
    std::optional<uint16_t> progress() const;
    // Field pointer of ILLEGAL REQUEST with SKSV: byte, and whether it points into the CDB.
    std::optional<uint16_t> field_pointer() const;
    bool is(uint8_t k, uint8_t a, uint8_t q) const { return key == k && asc == a && ascq == q; }
};
std::optional<SenseData> parse_sense(std::span<const uint8_t> sense);

// "ILLEGAL REQUEST", or "sense key 0Ch".
std::string sense_key_name(uint8_t key);
// The SPC text of the common ASC/ASCQ pairs a changer returns; "" when the pair is not in the table.
std::string asc_text(uint8_t asc, uint8_t ascq);
// "HARDWARE ERROR 04/15/01 MECHANICAL POSITIONING ERROR"
std::string describe(const SenseData& s);

enum class MoveState : uint8_t { Queued = 0, Moving = 1, DoneOk = 2, DoneError = 3, Aborted = 4 };
std::string to_string(MoveState s);

// MOVE QUERY's GOOD answer.
struct StatusBlock {
    uint8_t state = 0;  // MoveState, kept raw: a newer device may report more
    uint16_t progress = 0;
    uint16_t source = 0;
    uint16_t destination = 0;
    uint32_t token = 0;
    uint32_t seconds_since_accepted = 0;
    std::optional<SenseData> sense;  // bytes 18-35 when not all zero
};
// nullopt when shorter than the 18 bytes up to SECONDS SINCE ACCEPTED.
std::optional<StatusBlock> parse_status_block(std::span<const uint8_t> data);

// READ ELEMENT STATUS descriptors.
enum class ElementType : uint8_t { All = 0, Transport = 1, Storage = 2, ImportExport = 3, DataTransfer = 4 };
std::string to_string(ElementType t);
struct ElementDescriptor {
    ElementType type = ElementType::All;
    uint16_t address = 0;
    bool full = false;
    bool except = false;
    bool access = false;
    uint8_t asc = 0, ascq = 0;
    std::optional<uint16_t> source;  // SVALID
    std::string volume_tag;          // primary volume tag, trailing blanks removed ("" without one)
};
struct ElementStatus {
    std::vector<ElementDescriptor> elements;
    std::string error;  // set when the data is malformed
};
ElementStatus parse_element_status(std::span<const uint8_t> data);

// "0x1000" and "4096" both mean 4096; nullopt unless the whole text is a number <= max.
std::optional<uint32_t> parse_number(const std::string& text, uint32_t max);

}  // namespace vtl::client
