#include "zerofs/crypto/key_file.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace zerofs;
using crypto::Argon2Params;
using crypto::KeyFile;

namespace {

const crypto::VolumeUuid kUuid =
    crypto::VolumeUuid::Parse("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0").value();

KeyFile Wrap(const crypto::SecureBytes& key, const char* password) {
  Result<KeyFile> file = crypto::WrapDataKey(kUuid, key.span(), Secret(password),
                                             Argon2Params::Minimum(), crypto::SystemRandom());
  REQUIRE(file.ok());
  return *file;
}

bool SameKey(const crypto::SecureBytes& a, const crypto::SecureBytes& b) {
  return a.size() == b.size() && std::equal(a.data(), a.data() + a.size(), b.data());
}

std::string Edit(const KeyFile& file, const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json doc = nlohmann::json::parse(file.Encode());
  edit(doc);
  return doc.dump();
}

}  // namespace

TEST_CASE("a wrapped data key unwraps with its password only") {
  const crypto::SecureBytes key = crypto::NewDataKey(crypto::SystemRandom());
  const KeyFile file = Wrap(key, "correct horse");
  Result<crypto::SecureBytes> back = crypto::UnwrapDataKey(file, Secret("correct horse"));
  REQUIRE(back.ok());
  CHECK(SameKey(*back, key));

  Result<crypto::SecureBytes> wrong = crypto::UnwrapDataKey(file, Secret("battery staple"));
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == StatusCode::kPermissionDenied);
  CHECK(wrong.status().message() == "wrong password for volume " + kUuid.ToString());
}

TEST_CASE("the key file encodes to JSON and parses back") {
  const crypto::SecureBytes key = crypto::NewDataKey(crypto::SystemRandom());
  const KeyFile file = Wrap(key, "pw");
  const std::string text = file.Encode();
  CHECK_THAT(text, Catch::Contains("\"format\": \"zerofs.key\""));
  CHECK_THAT(text, Catch::Contains("\"algorithm\": \"argon2id13\""));
  CHECK_THAT(text, Catch::Contains(kUuid.ToString()));
  Result<KeyFile> parsed = KeyFile::Parse(text, "zerofs.key");
  REQUIRE(parsed.ok());
  CHECK(*parsed == file);
}

TEST_CASE("the wrapping AAD binds the volume and the cost parameters") {
  const crypto::SecureBytes key = crypto::NewDataKey(crypto::SystemRandom());
  const KeyFile file = Wrap(key, "pw");
  KeyFile changed = file;
  SECTION("another uuid") {
    changed.volume_uuid.bytes[0] ^= 1;
  }
  SECTION("another opslimit") {
    changed.kdf.opslimit = 2;
  }
  SECTION("another memlimit") {
    changed.kdf.memlimit_bytes = 16384;
  }
  SECTION("another salt") {
    changed.salt[3] ^= 1;
  }
  SECTION("another nonce") {
    changed.nonce[0] ^= 1;
  }
  SECTION("a flipped ciphertext bit") {
    changed.wrapped_key[40] ^= 1;
  }
  Result<crypto::SecureBytes> r = crypto::UnwrapDataKey(changed, Secret("pw"));
  CHECK(r.status().code() == StatusCode::kPermissionDenied);
}

TEST_CASE("malformed key files are Corruption naming the object") {
  const crypto::SecureBytes key = crypto::NewDataKey(crypto::SystemRandom());
  const KeyFile file = Wrap(key, "pw");
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"not JSON", "{"},
      {"not an object", "[1,2]"},
      {"empty", ""},
      {"unknown member", Edit(file, [](nlohmann::json& d) { d["extra"] = 1; })},
      {"missing member", Edit(file, [](nlohmann::json& d) { d.erase("kdf"); })},
      {"wrong format", Edit(file, [](nlohmann::json& d) { d["format"] = "other"; })},
      {"future version", Edit(file, [](nlohmann::json& d) { d["version"] = 2; })},
      {"negative version", Edit(file, [](nlohmann::json& d) { d["version"] = -1; })},
      {"bad uuid", Edit(file, [](nlohmann::json& d) { d["volume_uuid"] = "nope"; })},
      {"other kdf", Edit(file, [](nlohmann::json& d) { d["kdf"]["algorithm"] = "scrypt"; })},
      {"opslimit 0", Edit(file, [](nlohmann::json& d) { d["kdf"]["opslimit"] = 0; })},
      {"opslimit huge", Edit(file, [](nlohmann::json& d) { d["kdf"]["opslimit"] = 1000000; })},
      {"memlimit huge", Edit(file, [](nlohmann::json& d) { d["kdf"]["memlimit"] = 1ULL << 40; })},
      {"memlimit string", Edit(file, [](nlohmann::json& d) { d["kdf"]["memlimit"] = "8192"; })},
      {"short salt", Edit(file, [](nlohmann::json& d) { d["kdf"]["salt"] = "00"; })},
      {"upper-case hex",
       Edit(file, [](nlohmann::json& d) { d["wrapped_key"]["nonce"] = std::string(48, 'A'); })},
      {"extra wrap member", Edit(file, [](nlohmann::json& d) { d["wrapped_key"]["tag"] = "00"; })},
      {"too large", std::string(format::kKeyFileMaxBytes + 1, ' ')},
  };
  for (const auto& [what, text] : cases) {
    INFO(what);
    Result<KeyFile> r = KeyFile::Parse(text, "zerofs.key");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kCorruption);
    CHECK_THAT(r.status().message(), Catch::StartsWith("zerofs.key: "));
  }
}

TEST_CASE("Argon2id cost parameters are bounded") {
  CHECK(Argon2Params::Default().Validate().ok());
  CHECK(Argon2Params::Minimum().Validate().ok());
  CHECK_FALSE((Argon2Params{0, 1 << 20}).Validate().ok());
  CHECK_FALSE((Argon2Params{33, 1 << 20}).Validate().ok());
  CHECK_FALSE((Argon2Params{3, 4096}).Validate().ok());
  CHECK_FALSE((Argon2Params{3, 5ULL << 30}).Validate().ok());
  const crypto::SecureBytes key = crypto::NewDataKey(crypto::SystemRandom());
  CHECK(crypto::WrapDataKey(kUuid, key.span(), Secret("pw"), Argon2Params{0, 8192},
                            crypto::SystemRandom())
            .status()
            .code() == StatusCode::kInvalidArgument);
  CHECK(crypto::WrapDataKey(kUuid, key.span(), Secret(""), Argon2Params::Minimum(),
                            crypto::SystemRandom())
            .status()
            .code() == StatusCode::kInvalidArgument);
}

TEST_CASE("volume UUIDs parse and print") {
  CHECK(kUuid.ToString() == "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0");
  CHECK(kUuid.bytes[0] == 0x0f);
  CHECK(crypto::VolumeUuid::Parse("0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F0").value() == kUuid);
  for (const char* bad :
       {"", "0f1e2d3c4b5a49788695a4b3c2d1e0f0", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f",
        "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f00", "0g1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0"}) {
    INFO(bad);
    CHECK_FALSE(crypto::VolumeUuid::Parse(bad).ok());
  }
  crypto::DeterministicRandom random(7);
  const crypto::VolumeUuid v4 = crypto::VolumeUuid::Random(random);
  CHECK((v4.bytes[6] >> 4) == 4);
  CHECK((v4.bytes[8] & 0xc0) == 0x80);
}
