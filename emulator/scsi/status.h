// SAM status codes, sense keys and the additional sense codes this project uses, by name.
#pragma once

#include <cstdint>

namespace vtl::scsi {

enum class Status : uint8_t {
    Good = 0x00,
    CheckCondition = 0x02,
    ConditionMet = 0x04,
    Busy = 0x08,
    ReservationConflict = 0x18,
    TaskSetFull = 0x28,
    AcaActive = 0x30,
    TaskAborted = 0x40,
};

enum class SenseKey : uint8_t {
    NoSense = 0x0,
    RecoveredError = 0x1,
    NotReady = 0x2,
    MediumError = 0x3,
    HardwareError = 0x4,
    IllegalRequest = 0x5,
    UnitAttention = 0x6,
    DataProtect = 0x7,
    BlankCheck = 0x8,
    VendorSpecific = 0x9,
    CopyAborted = 0xA,
    AbortedCommand = 0xB,
    VolumeOverflow = 0xD,
    Miscompare = 0xE,
};

// Additional sense code and qualifier.
struct Asc {
    uint8_t asc = 0;
    uint8_t ascq = 0;
    friend bool operator==(const Asc&, const Asc&) = default;
};

namespace asc {
inline constexpr Asc kNoAdditionalSense{0x00, 0x00};
inline constexpr Asc kFilemarkDetected{0x00, 0x01};
inline constexpr Asc kEndOfPartitionMediumDetected{0x00, 0x02};
inline constexpr Asc kBeginningOfPartitionMediumDetected{0x00, 0x04};
inline constexpr Asc kEndOfDataDetected{0x00, 0x05};
inline constexpr Asc kNotReadyCauseNotReportable{0x04, 0x00};
inline constexpr Asc kBecomingReady{0x04, 0x01};
inline constexpr Asc kInitializingCommandRequired{0x04, 0x02};
inline constexpr Asc kManualInterventionRequired{0x04, 0x03};
inline constexpr Asc kOperationInProgress{0x04, 0x07};
inline constexpr Asc kLogicalUnitCommunicationFailure{0x08, 0x00};
inline constexpr Asc kLogicalUnitCommunicationTimeout{0x08, 0x01};
inline constexpr Asc kParameterListLengthError{0x1A, 0x00};
inline constexpr Asc kInvalidCommandOperationCode{0x20, 0x00};
inline constexpr Asc kInvalidElementAddress{0x21, 0x01};
inline constexpr Asc kInvalidFieldInCdb{0x24, 0x00};
inline constexpr Asc kLogicalUnitNotSupported{0x25, 0x00};
inline constexpr Asc kInvalidFieldInParameterList{0x26, 0x00};
inline constexpr Asc kParameterNotSupported{0x26, 0x01};
inline constexpr Asc kParameterValueInvalid{0x26, 0x02};
inline constexpr Asc kWriteProtected{0x27, 0x00};
inline constexpr Asc kNotReadyToReadyChange{0x28, 0x00};
inline constexpr Asc kImportExportElementAccessed{0x28, 0x01};
inline constexpr Asc kPowerOnResetOccurred{0x29, 0x00};
inline constexpr Asc kPowerOnOccurred{0x29, 0x01};
inline constexpr Asc kBusDeviceResetOccurred{0x29, 0x03};
inline constexpr Asc kDeviceInternalReset{0x29, 0x04};
inline constexpr Asc kITNexusLossOccurred{0x29, 0x07};
inline constexpr Asc kParametersChanged{0x2A, 0x00};
inline constexpr Asc kModeParametersChanged{0x2A, 0x01};
inline constexpr Asc kLogParametersChanged{0x2A, 0x02};
inline constexpr Asc kReservationsPreempted{0x2A, 0x03};
inline constexpr Asc kReservationsReleased{0x2A, 0x04};
inline constexpr Asc kCommandsClearedByAnotherInitiator{0x2F, 0x00};
inline constexpr Asc kIncompatibleMediumInstalled{0x30, 0x00};
inline constexpr Asc kSavingParametersNotSupported{0x39, 0x00};
inline constexpr Asc kMediumNotPresent{0x3A, 0x00};
inline constexpr Asc kMediumDestinationElementFull{0x3B, 0x0D};
inline constexpr Asc kMediumSourceElementEmpty{0x3B, 0x0E};
inline constexpr Asc kReportedLunsDataChanged{0x3F, 0x0E};
inline constexpr Asc kInternalTargetFailure{0x44, 0x00};
inline constexpr Asc kMediumRemovalPrevented{0x53, 0x02};
inline constexpr Asc kMediaLoadOrEjectFailed{0x53, 0x00};
}  // namespace asc

}  // namespace vtl::scsi
