#include "objstore/s3/credentials.h"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace zerofs::objstore::s3 {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string EnvOr(EnvLookup env, const char* name) {
  std::optional<std::string> v = env(name);
  return v.has_value() ? *v : std::string();
}

}  // namespace

Result<Credentials> ParseCredentialsFile(std::string_view text, std::string_view profile,
                                         std::string_view origin) {
  Credentials out;
  out.source = std::string(origin) + " [" + std::string(profile) + "]";
  bool in_profile = false;
  bool found = false;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    auto bad = [&](std::string_view why) {
      return Status::InvalidArgument(std::string(origin) + ":" + std::to_string(line_no) + ": " +
                                     std::string(why));
    };
    if (line.front() == '[') {
      if (line.back() != ']') return bad("unterminated [section]");
      std::string_view name = Trim(line.substr(1, line.size() - 2));
      // ~/.aws/config spells sections "[profile NAME]"; accept that here too.
      if (name.substr(0, 8) == "profile ") name = Trim(name.substr(8));
      in_profile = name == profile;
      found = found || in_profile;
      continue;
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return bad("expected 'name = value'");
    if (!in_profile) continue;
    const std::string_view key = Trim(line.substr(0, eq));
    const std::string_view value = Trim(line.substr(eq + 1));
    if (key == "aws_access_key_id") {
      out.access_key_id = std::string(value);
    } else if (key == "aws_secret_access_key") {
      out.secret_access_key = Secret(std::string(value));
    } else if (key == "aws_session_token") {
      out.session_token = Secret(std::string(value));
    }
  }
  if (!found) {
    return Status::NotFound("no profile [" + std::string(profile) + "] in " + std::string(origin));
  }
  if (out.access_key_id.empty() || out.secret_access_key.empty()) {
    return Status::InvalidArgument("profile [" + std::string(profile) + "] in " +
                                   std::string(origin) +
                                   " lacks aws_access_key_id or aws_secret_access_key");
  }
  return out;
}

Result<Credentials> ResolveCredentials(const S3Options& config, EnvLookup env) {
  if (!config.access_key_id.empty()) {
    if (config.secret_access_key.empty()) {
      return Status::InvalidArgument("[s3] access_key_id is set but secret_access_key is not");
    }
    return Credentials{config.access_key_id, config.secret_access_key, config.session_token,
                       "config"};
  }
  const std::string env_key = EnvOr(env, "AWS_ACCESS_KEY_ID");
  if (!env_key.empty()) {
    Secret secret(EnvOr(env, "AWS_SECRET_ACCESS_KEY"));
    if (secret.empty()) {
      return Status::InvalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    }
    return Credentials{env_key, std::move(secret), Secret(EnvOr(env, "AWS_SESSION_TOKEN")),
                       "environment"};
  }
  std::string path = EnvOr(env, "AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty()) {
    const std::string home = EnvOr(env, "HOME");
    if (!home.empty()) path = home + "/.aws/credentials";
  }
  std::string profile = config.profile;
  if (profile.empty()) profile = EnvOr(env, "AWS_PROFILE");
  if (profile.empty()) profile = "default";
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      Result<Credentials> parsed = ParseCredentialsFile(text, profile, path);
      // The file's bytes include the secret; do not leave them in freed memory.
      std::fill(text.begin(), text.end(), '\0');
      return parsed;
    }
  }
  return Status::PermissionDenied(
      "no S3 credentials: set [s3] access_key_id and secret_access_key, or "
      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile [" +
      profile + "] in " + (path.empty() ? std::string("~/.aws/credentials") : path));
}

}  // namespace zerofs::objstore::s3
