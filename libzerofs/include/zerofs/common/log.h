// Logging: leveled, line-oriented messages to a sink (stderr by default).
//
//   ZEROFS_LOG(kInfo) << "opened volume " << uuid;
//
// A message below the current level costs one atomic load; its stream expression is not
// evaluated. Each message is written as one line ("2026-11-24T05:17:30.123Z I message")
// under a lock, so lines from different threads never interleave. Secrets are wrapped in
// Secret (secret.h), whose operator<< prints "<redacted>", so that logging a config or a
// credential by mistake cannot leak it.
//
// Thread-safety: every function here may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"

namespace zerofs::log {

enum class Level : std::uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void SetLevel(Level level);
Level GetLevel();
inline bool Enabled(Level level) { return level >= GetLevel() && level != Level::kOff; }

// "debug", "info", "warn"/"warning", "error", "off" (case-insensitive).
Result<Level> ParseLevel(std::string_view name);
std::string_view LevelName(Level level);

// Replaces the sink; nullptr restores stderr. The sink receives complete lines without
// the trailing newline. Tests use this to capture output.
using Sink = std::function<void(Level, std::string_view line)>;
void SetSink(Sink sink);

void Write(Level level, std::string_view message);

// Collects one message and writes it on destruction.
class LineBuilder {
 public:
  explicit LineBuilder(Level level) : level_(level) {}
  LineBuilder(const LineBuilder&) = delete;
  LineBuilder& operator=(const LineBuilder&) = delete;
  ~LineBuilder() { Write(level_, stream_.str()); }
  std::ostream& stream() { return stream_; }

 private:
  Level level_;
  std::ostringstream stream_;
};

}  // namespace zerofs::log

// A one-shot loop rather than if/else, so that `if (x) ZEROFS_LOG(kInfo) << ...;` has no
// dangling else.
#define ZEROFS_LOG(level)                                                              \
  for (bool zerofs_log_once_ = ::zerofs::log::Enabled(::zerofs::log::Level::level);    \
       zerofs_log_once_; zerofs_log_once_ = false)                                     \
    ::zerofs::log::LineBuilder(::zerofs::log::Level::level).stream()
