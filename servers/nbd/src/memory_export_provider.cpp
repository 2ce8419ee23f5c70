// Named in-memory exports and the `--memory NAME:SIZE[:OPTIONS]` syntax.
#include "zerofs/nbd/memory_export_provider.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace zerofs::nbd {
namespace {

Result<std::uint32_t> ParseU32(std::string_view text, std::string_view what) {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::InvalidArgument("invalid " + std::string(what) + " '" + std::string(text) + "'");
  }
  return v;
}

}  // namespace

Result<std::uint64_t> ParseByteSize(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("empty size");
  std::uint64_t multiplier = 1;
  std::string_view digits = text;
  switch (text.back()) {
    case 'K':
    case 'k': multiplier = 1ULL << 10; break;
    case 'M':
    case 'm': multiplier = 1ULL << 20; break;
    case 'G':
    case 'g': multiplier = 1ULL << 30; break;
    case 'T':
    case 't': multiplier = 1ULL << 40; break;
    default: break;
  }
  if (multiplier != 1) digits.remove_suffix(1);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return Status::InvalidArgument("invalid size '" + std::string(text) +
                                   "' (expected a number with an optional K, M, G or T)");
  }
  if (v > std::numeric_limits<std::uint64_t>::max() / multiplier) {
    return Status::InvalidArgument("size '" + std::string(text) + "' is too large");
  }
  return v * multiplier;
}

Result<MemoryExportSpec> ParseMemoryExportSpec(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument("invalid memory export '" + std::string(text) +
                                   "' (expected NAME:SIZE[:OPTIONS], e.g. disk1:256M)");
  }
  MemoryExportSpec spec;
  spec.name = std::string(text.substr(0, colon));
  std::string_view rest = text.substr(colon + 1);
  const std::size_t colon2 = rest.find(':');
  std::string_view size_text = rest.substr(0, colon2);
  ZEROFS_ASSIGN_OR_RETURN(spec.size_bytes, ParseByteSize(size_text));
  std::string_view opts =
      colon2 == std::string_view::npos ? std::string_view{} : rest.substr(colon2 + 1);
  while (!opts.empty()) {
    const std::size_t comma = opts.find(',');
    std::string_view opt = opts.substr(0, comma);
    opts = comma == std::string_view::npos ? std::string_view{} : opts.substr(comma + 1);
    if (opt == "ro") {
      spec.options.read_only = true;
    } else if (opt == "slow-zero") {
      spec.options.fast_zero = false;
    } else if (opt.substr(0, 10) == "min-block=") {
      ZEROFS_ASSIGN_OR_RETURN(spec.options.min_block_bytes,
                              ParseU32(opt.substr(10), "minimum block size"));
    } else {
      return Status::InvalidArgument("unknown memory export option '" + std::string(opt) +
                                     "' (expected ro, slow-zero or min-block=N)");
    }
  }
  return spec;
}

Status MemoryExportProvider::Add(std::string name, std::shared_ptr<BlockDevice> device,
                                 std::string description) {
  if (device == nullptr) return Status::InvalidArgument("export '" + name + "' has no device");
  if (name.size() > kMaxStringBytes || name.find('\0') != std::string::npos) {
    return Status::InvalidArgument("invalid export name");
  }
  std::lock_guard lock(mu_);
  for (const Entry& e : entries_) {
    if (e.name == name) return Status::AlreadyExists("export '" + name + "' exists");
  }
  entries_.push_back({std::move(name), std::move(description), std::move(device)});
  return Status::Ok();
}

Status MemoryExportProvider::AddMemory(const MemoryExportSpec& spec) {
  ZEROFS_ASSIGN_OR_RETURN(auto device, MemoryBlockDevice::Create(spec.size_bytes, spec.options));
  std::string description = "memory export, " + std::to_string(spec.size_bytes) + " bytes";
  if (spec.options.read_only) description += ", read-only";
  return Add(spec.name, std::move(device), std::move(description));
}

Status MemoryExportProvider::Remove(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.name == name; });
  if (it == entries_.end()) return Status::NotFound("no export named '" + std::string(name) + "'");
  entries_.erase(it);
  return Status::Ok();
}

Result<std::vector<ExportSummary>> MemoryExportProvider::List() {
  std::lock_guard lock(mu_);
  std::vector<ExportSummary> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back({e.name, e.device->Size(), e.description});
  return out;
}

Result<OpenedExport> MemoryExportProvider::Open(std::string_view name) {
  std::lock_guard lock(mu_);
  for (const Entry& e : entries_) {
    // The empty name selects the default export: the first one.
    if (e.name == name || name.empty()) return OpenedExport{e.name, e.description, e.device};
  }
  return Status::NotFound("no export named '" + std::string(name) + "'");
}

}  // namespace zerofs::nbd
