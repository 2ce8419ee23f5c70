// The process environment as an EnvLookup; see env.h.
#include "zerofs/common/env.h"

#include <cstdlib>

namespace zerofs {

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace zerofs
