#include "verify/overwatch.h"

namespace hivemind::verify {

std::string_view diagnosis_name(Diagnosis diagnosis) {
  switch (diagnosis) {
    case Diagnosis::kNone:
      return "none";
    case Diagnosis::kRefused:
      return "refused";
    case Diagnosis::kTimedOut:
      return "timed_out";
    case Diagnosis::kUnreachable:
      return "unreachable";
    case Diagnosis::kWrongStatus:
      return "wrong_status";
    case Diagnosis::kBodyMismatch:
      return "body_mismatch";
    case Diagnosis::kCertExpired:
      return "certificate_expired";
    case Diagnosis::kCertSelfSigned:
      return "certificate_self_signed";
    case Diagnosis::kCertUntrusted:
      return "certificate_untrusted";
    case Diagnosis::kCertWrongHost:
      return "certificate_wrong_host";
    case Diagnosis::kCertExpiresSoon:
      return "certificate_expires_soon";
    case Diagnosis::kTlsHandshake:
      return "tls_handshake_failed";
    case Diagnosis::kAuthFailed:
      return "auth_failed";
    case Diagnosis::kQueryFailed:
      return "query_failed";
    case Diagnosis::kInvalidRequest:
      return "invalid_request";
  }
  return "unknown";
}

}  // namespace hivemind::verify
