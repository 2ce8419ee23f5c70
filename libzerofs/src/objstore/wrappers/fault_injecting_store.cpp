#include "zerofs/objstore/fault_injecting_store.h"

#include <array>
#include <thread>

namespace zerofs::objstore {

FaultRule FaultRule::FailNth(std::uint64_t nth, std::optional<StoreOp> op) {
  FaultRule rule;
  rule.op = op;
  rule.nth = nth;
  return rule;
}

FaultRule FaultRule::FailRandomly(double p, std::optional<StoreOp> op) {
  FaultRule rule;
  rule.op = op;
  rule.probability = p;
  return rule;
}

FaultRule FaultRule::TruncateLists(double p, std::uint32_t keep_keys) {
  FaultRule rule;
  rule.op = StoreOp::kList;
  rule.probability = p;
  rule.effect = FaultEffect::kTruncateList;
  rule.keep_keys = keep_keys;
  return rule;
}

FaultRule FaultRule::Delay(std::chrono::microseconds delay, std::optional<StoreOp> op,
                           std::chrono::microseconds jitter) {
  FaultRule rule;
  rule.op = op;
  rule.probability = 1.0;
  rule.effect = FaultEffect::kDelay;
  rule.delay = delay;
  rule.delay_jitter = jitter;
  return rule;
}

FaultInjectingStore::FaultInjectingStore(std::shared_ptr<ObjectStore> inner, std::uint64_t seed,
                                         SleepFn sleep)
    : StoreWrapper(std::move(inner)),
      seed_(seed),
      sleep_(sleep ? std::move(sleep)
                   : SleepFn([](std::chrono::microseconds d) { std::this_thread::sleep_for(d); })),
      rng_(seed) {}

FaultInjectingStore::~FaultInjectingStore() = default;

void FaultInjectingStore::AddRule(FaultRule rule) {
  std::lock_guard lock(mu_);
  rules_.push_back(RuleState{std::move(rule), ++rules_added_, 0});
}

void FaultInjectingStore::ClearRules() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

void FaultInjectingStore::Crash() {
  std::lock_guard lock(mu_);
  crashed_ = true;
}

void FaultInjectingStore::Restart() {
  std::lock_guard lock(mu_);
  crashed_ = false;
}

bool FaultInjectingStore::crashed() const {
  std::lock_guard lock(mu_);
  return crashed_;
}

FaultStats FaultInjectingStore::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::string FaultInjectingStore::Describe() const {
  return inner().Describe() + " [fault injection, seed " + std::to_string(seed_) + "]";
}

double FaultInjectingStore::NextUnit() {
  // 53 random bits, so the sequence is the same with every standard library (unlike
  // std::uniform_real_distribution).
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

FaultInjectingStore::Decision FaultInjectingStore::Decide(StoreOp op,
                                                          std::span<const std::string_view> keys) {
  std::lock_guard lock(mu_);
  Decision d;
  ++stats_.calls;
  if (crashed_) {
    d.refused = true;
    ++stats_.refused_crashed;
    return d;
  }
  bool crash = false;
  for (RuleState& state : rules_) {
    const FaultRule& rule = state.rule;
    if (rule.op.has_value() && *rule.op != op) continue;
    if (rule.effect == FaultEffect::kTruncateList && op != StoreOp::kList) continue;
    bool key_matches = rule.key_prefix.empty();
    for (std::string_view key : keys) key_matches = key_matches || key.starts_with(rule.key_prefix);
    if (!key_matches) continue;
    ++state.seen;
    const bool fires = rule.nth > 0 ? state.seen >= rule.nth && state.seen - rule.nth < rule.count
                                    : rule.probability > 0 && NextUnit() < rule.probability;
    if (!fires) continue;
    if (rule.effect == FaultEffect::kDelay) {
      std::chrono::microseconds extra{0};
      if (rule.delay_jitter.count() > 0) {
        extra = std::chrono::microseconds(static_cast<std::int64_t>(
            rng_() % (static_cast<std::uint64_t>(rule.delay_jitter.count()) + 1)));
      }
      d.delay += rule.delay + extra;
    } else if (d.effect.has_value()) {
      continue;  // the call is already decided by an earlier rule
    } else {
      d.effect = rule.effect;
      d.code = rule.code;
      d.keep_keys = rule.keep_keys;
      d.why = "rule #" + std::to_string(state.index) + ", call #" + std::to_string(state.seen);
    }
    crash = crash || rule.crash;
  }
  if (d.delay.count() > 0) ++stats_.delayed;
  if (d.effect == FaultEffect::kFailBefore) ++stats_.failed_before;
  if (d.effect == FaultEffect::kFailAfter) ++stats_.failed_after;
  // Truncations are counted when they happen: a page with one key cannot be cut.
  if (crash) crashed_ = true;
  return d;
}

Status FaultInjectingStore::InjectedError(const Decision& d, StoreOp op,
                                          std::string_view key) const {
  if (d.refused) {
    return Status::Unavailable("injected crash (seed " + std::to_string(seed_) +
                               "): " + std::string(StoreOpName(op)) + " '" + std::string(key) +
                               "' refused");
  }
  std::string msg = "injected fault (seed " + std::to_string(seed_) + ", " + d.why +
                    "): " + std::string(StoreOpName(op)) + " '" + std::string(key) + "'";
  if (d.effect == FaultEffect::kFailAfter) msg += " failed after taking effect";
  return Status(d.code, std::move(msg));
}

std::optional<Status> FaultInjectingStore::Before(const Decision& d, StoreOp op,
                                                  std::string_view key) {
  if (d.delay.count() > 0) sleep_(d.delay);
  if (d.refused || d.effect == FaultEffect::kFailBefore) return InjectedError(d, op, key);
  return std::nullopt;
}

Result<GetResult> FaultInjectingStore::DoGet(std::string_view key, std::optional<ByteRange> range) {
  const std::array<std::string_view, 1> keys{key};
  const Decision d = Decide(StoreOp::kGet, keys);
  if (auto error = Before(d, StoreOp::kGet, key)) return *std::move(error);
  Result<GetResult> r = inner().Get(key, range);
  if (d.effect == FaultEffect::kFailAfter) return InjectedError(d, StoreOp::kGet, key);
  return r;
}

Result<ObjectInfo> FaultInjectingStore::DoPut(std::string_view key, std::string_view data,
                                              const PutOptions& options) {
  const std::array<std::string_view, 1> keys{key};
  const Decision d = Decide(StoreOp::kPut, keys);
  if (auto error = Before(d, StoreOp::kPut, key)) return *std::move(error);
  Result<ObjectInfo> r = inner().Put(key, data, options);
  // A put that failed by itself reports its own error: it did not take effect.
  if (d.effect == FaultEffect::kFailAfter && r.ok()) return InjectedError(d, StoreOp::kPut, key);
  return r;
}

Result<ObjectInfo> FaultInjectingStore::DoHead(std::string_view key) {
  const std::array<std::string_view, 1> keys{key};
  const Decision d = Decide(StoreOp::kHead, keys);
  if (auto error = Before(d, StoreOp::kHead, key)) return *std::move(error);
  Result<ObjectInfo> r = inner().Head(key);
  if (d.effect == FaultEffect::kFailAfter) return InjectedError(d, StoreOp::kHead, key);
  return r;
}

Result<ListPageResult> FaultInjectingStore::DoListPage(std::string_view prefix,
                                                       std::string_view start_after,
                                                       std::uint32_t max_keys) {
  const std::array<std::string_view, 1> keys{prefix};
  const Decision d = Decide(StoreOp::kList, keys);
  if (auto error = Before(d, StoreOp::kList, prefix)) return *std::move(error);
  Result<ListPageResult> r = inner().ListPage(prefix, start_after, max_keys);
  if (d.effect == FaultEffect::kFailAfter) return InjectedError(d, StoreOp::kList, prefix);
  if (d.effect == FaultEffect::kTruncateList && r.ok() && r->objects.size() > 1) {
    const std::size_t n = r->objects.size();
    std::size_t keep = d.keep_keys;
    std::lock_guard lock(mu_);
    if (keep == 0) keep = 1 + rng_() % (n - 1);
    if (keep < n) {
      r->objects.resize(keep);
      r->truncated = true;
      ++stats_.truncated_lists;
    }
  }
  return r;
}

Status FaultInjectingStore::DoDelete(std::string_view key) {
  const std::array<std::string_view, 1> keys{key};
  const Decision d = Decide(StoreOp::kDelete, keys);
  if (auto error = Before(d, StoreOp::kDelete, key)) return *std::move(error);
  Status s = inner().Delete(key);
  if (d.effect == FaultEffect::kFailAfter && s.ok()) return InjectedError(d, StoreOp::kDelete, key);
  return s;
}

Status FaultInjectingStore::DoDeleteMany(std::span<const std::string> keys) {
  std::vector<std::string_view> views(keys.begin(), keys.end());
  const Decision d = Decide(StoreOp::kDelete, views);
  const std::string_view first = views.front();  // DeleteMany never passes an empty list
  if (auto error = Before(d, StoreOp::kDelete, first)) return *std::move(error);
  Status s = inner().DeleteMany(keys);
  if (d.effect == FaultEffect::kFailAfter && s.ok()) {
    return InjectedError(d, StoreOp::kDelete, first);
  }
  return s;
}

}  // namespace zerofs::objstore
