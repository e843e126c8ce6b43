// AWSTAPE images (.aws). Each block has a 6-byte header: the length of its data (16-bit
// little-endian), the length of the previous block's data (the same), and two flag bytes:
// 0x80 start of record, 0x40 tape mark, 0x20 end of record in the first, 0 in the second. A
// record longer than 65535 bytes spans several blocks: the first has 0x80, the last 0x20.
// A tape mark is a header with length 0 and flag 0x40. End of file is end of tape.
#pragma once

#include <cstdint>

#include "storage/tape_image.h"

namespace vtl::storage {

Result<void> read_aws(ImageInput& in, ImageSink& sink);
// Records the source tape could not read have no AWS representation and are refused.
Result<void> write_aws(Cartridge& cartridge, uint8_t partition, ImageOutput& out);

}  // namespace vtl::storage
