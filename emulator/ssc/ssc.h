// The SSC command set of a tape drive (SSC-4 with the IBM and HPE LTO behaviour hosts rely on),
// one file per command family. TapeDrive::attach registers them all.
#pragma once

#include <memory>

namespace vtl {
class LogicalUnit;
class TapeDrive;
}  // namespace vtl

namespace vtl::ssc {

struct WriteControl;  // write_policy.h: append-only mode, ALLOW OVERWRITE, programmable early warning

void register_ssc(LogicalUnit& lu, TapeDrive& drive);

// read_write.cpp: READ, WRITE, WRITE FILEMARKS, VERIFY
void register_read_write(LogicalUnit& lu, TapeDrive& drive, const std::shared_ptr<WriteControl>& control);
void register_positioning(LogicalUnit& lu, TapeDrive& drive);     // positioning.cpp: SPACE, LOCATE, READ POSITION, REWIND
void register_load_unload(LogicalUnit& lu, TapeDrive& drive);     // load_unload.cpp: LOAD UNLOAD
// format.cpp: ERASE, FORMAT MEDIUM, SET CAPACITY, ALLOW OVERWRITE
void register_format(LogicalUnit& lu, TapeDrive& drive, const std::shared_ptr<WriteControl>& control);
void register_identification(LogicalUnit& lu, TapeDrive& drive);  // identification.cpp: READ BLOCK LIMITS, REPORT DENSITY
                                                                  // SUPPORT, READ MEDIA SERIAL NUMBER, VPD B0h/B1h/B2h
void register_attributes(LogicalUnit& lu, TapeDrive& drive);      // attributes.cpp: READ/WRITE ATTRIBUTE
void register_mode_pages(LogicalUnit& lu, TapeDrive& drive,
                         const std::shared_ptr<WriteControl>& control);  // ssc_mode_pages.cpp
void register_log_pages(LogicalUnit& lu, TapeDrive& drive);       // ssc_log_pages.cpp

// Mode page 11h takes the mounted medium's partitioning (after a load and a FORMAT MEDIUM).
void publish_partition_page(TapeDrive& drive);

}  // namespace vtl::ssc
