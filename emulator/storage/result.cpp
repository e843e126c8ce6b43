#include "storage/result.h"

namespace vtl::storage {

std::string_view to_string(Errc code) {
    switch (code) {
        case Errc::FormatCorrupted: return "FormatCorrupted";
        case Errc::UnrecoveredRead: return "UnrecoveredRead";
        case Errc::UnsupportedFormat: return "UnsupportedFormat";
        case Errc::EndOfMedium: return "EndOfMedium";
        case Errc::InvalidArgument: return "InvalidArgument";
        case Errc::NotFound: return "NotFound";
        case Errc::AlreadyExists: return "AlreadyExists";
        case Errc::InUse: return "InUse";
        case Errc::BadImage: return "BadImage";
        case Errc::Io: return "Io";
    }
    return "?";
}

}  // namespace vtl::storage
