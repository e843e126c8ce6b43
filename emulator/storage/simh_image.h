// SIMH magtape images (.tap). Each object starts with a 32-bit little-endian word:
//   0x00000000            tape mark
//   0xFFFFFFFF            end of medium (nothing after it is read)
//   0xFFFFFFFE            erase gap (skipped)
//   0xFFFEFFFF            half gap (skipped: the data resumes two bytes on)
//   other 0xFFxxxxxx      reserved (refused)
//   n (bits 0..23), flag  a data record of n bytes; bit 31 set: the record had a read error
// A record is its word, n data bytes, one pad byte when n is odd, and the same word again.
// Lengths are 24 bits, so records of 16 MiB or more cannot be exported to this format.
#pragma once

#include <cstdint>

#include "storage/tape_image.h"

namespace vtl::storage {

Result<void> read_simh(ImageInput& in, ImageSink& sink);
Result<void> write_simh(Cartridge& cartridge, uint8_t partition, ImageOutput& out);

}  // namespace vtl::storage
