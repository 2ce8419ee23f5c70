#include "zerofs/common/secret.h"

#include <sodium.h>

namespace zerofs {

void Secret::Wipe() {
  if (!value_.empty()) sodium_memzero(value_.data(), value_.size());
  value_.clear();
}

}  // namespace zerofs
