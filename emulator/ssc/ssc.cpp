#include "ssc/ssc.h"

#include "ssc/write_policy.h"

namespace vtl::ssc {

void register_ssc(LogicalUnit& lu, TapeDrive& drive) {
    auto control = std::make_shared<WriteControl>();  // lives as long as the commands using it
    register_mode_pages(lu, drive, control);
    register_log_pages(lu, drive);
    register_read_write(lu, drive, control);
    register_positioning(lu, drive);
    register_load_unload(lu, drive);
    register_format(lu, drive, control);
    register_identification(lu, drive);
    register_attributes(lu, drive);
}

}  // namespace vtl::ssc
