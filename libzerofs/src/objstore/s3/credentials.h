// Where S3Store's credentials come from, in the order the AWS tools use:
//   1. S3Options::access_key_id / secret_access_key / session_token,
//   2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
//   3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials),
//      profile S3Options::profile, else AWS_PROFILE, else "default".
// The first source that names an access key id wins as a whole; mixing a key id from one
// source with a secret from another would only produce confusing signature errors.
//
// Secrets stay in Secret values and error messages name the source, never the secret.
// Stateless functions; thread-safe (the environment lookup is injected).
#pragma once

#include <string>
#include <string_view>

#include "zerofs/common/env.h"
#include "zerofs/common/result.h"
#include "zerofs/common/secret.h"
#include "zerofs/objstore/s3_options.h"

namespace zerofs::objstore::s3 {

struct Credentials {
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;  // empty unless temporary credentials
  std::string source;    // "config", "environment", "/root/.aws/credentials [default]"
};

// Reads `profile` from the text of an INI-style credentials file (aws_access_key_id,
// aws_secret_access_key, aws_session_token; '#' and ';' start comments). kNotFound when
// the profile is missing; kInvalidArgument naming the line when the file is malformed or
// the profile lacks a key. `origin` names the file in messages.
Result<Credentials> ParseCredentialsFile(std::string_view text, std::string_view profile,
                                         std::string_view origin);

// Applies the order above. kPermissionDenied when no source has credentials.
Result<Credentials> ResolveCredentials(const S3Options& config, EnvLookup env = ProcessEnv);

}  // namespace zerofs::objstore::s3
