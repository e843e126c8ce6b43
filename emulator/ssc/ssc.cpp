#include "ssc/ssc.h"

namespace vtl::ssc {

void register_ssc(LogicalUnit& lu, TapeDrive& drive) {
    register_mode_pages(lu, drive);
    register_log_pages(lu, drive);
    register_read_write(lu, drive);
    register_positioning(lu, drive);
    register_load_unload(lu, drive);
    register_format(lu, drive);
    register_identification(lu, drive);
    register_attributes(lu, drive);
}

}  // namespace vtl::ssc
