// Fuzzes the key file parser, and unwrapping where the costs are small enough to be quick.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "zerofs/crypto/key_file.h"

using namespace zerofs;

namespace {

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  const crypto::SecureBytes key = crypto::NewDataKey(crypto::SystemRandom());
  for (const char* password : {"pw", "correct horse battery staple"}) {
    const crypto::KeyFile file =
        crypto::WrapDataKey(fuzz::Uuid(), key.span(), Secret(password),
                            crypto::Argon2Params::Minimum(), crypto::SystemRandom())
            .value();
    seeds.push_back(file.Encode());
  }
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::MaybeWriteSeeds(Seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Result<crypto::KeyFile> file = crypto::KeyFile::Parse(in, "zerofs.key");
  if (!file.ok()) return 0;
  Result<crypto::KeyFile> again = crypto::KeyFile::Parse(file->Encode(), "zerofs.key");
  fuzz::Expect(again.ok() && *again == *file, "key file does not round-trip");
  // Argon2id at larger costs would make each run slow, not find more bugs.
  if (file->kdf.memlimit_bytes <= 64 * 1024 && file->kdf.opslimit <= 2) {
    Result<crypto::SecureBytes> key = crypto::UnwrapDataKey(*file, Secret("pw"));
    fuzz::Expect(key.ok() || key.status().code() == StatusCode::kPermissionDenied,
                 "unwrap failed with an unexpected status");
  }
  return 0;
}
