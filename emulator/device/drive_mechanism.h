// What the library needs from a tape drive in one of its data transfer elements: the drive's
// side of a load and an unload. TapeDrive implements it; the library calls it on its clock.
#pragma once

#include <functional>
#include <optional>

#include "scsi/sense.h"
#include "smc/element.h"

namespace vtl {

class DriveMechanism {
public:
    enum class State {
        Empty,      // no cartridge
        Loading,    // threading: the drive answers 02/04/01
        Loaded,     // threaded and ready (IBM: ACCESS=0, the robot cannot pick it)
        Unloading,  // rewinding and unthreading
        Ejected,    // in the drive's mouth; the robot can pick it
    };
    using Done = std::function<void(std::optional<scsi::Sense>)>;

    virtual ~DriveMechanism() = default;
    virtual State state() const = 0;
    // The robot put `cartridge` into the drive's mouth. The drive loads and threads it, taking
    // its load time, then reports UNIT ATTENTION 28/00 to every nexus. `done` runs when ready
    // (or with the reason it could not load: 05/30/00 incompatible medium, ...).
    virtual void insert(const smc::Cartridge& cartridge, Done done) = 0;
    // Rewind, unthread and eject so the robot can pick the cartridge; `done` runs when it can.
    virtual void eject(Done done) = 0;
    // The robot took the cartridge from the mouth.
    virtual void removed() = 0;
    // A host holds PREVENT MEDIUM REMOVAL on the drive's own logical unit.
    virtual bool removal_prevented() const = 0;
};

}  // namespace vtl
