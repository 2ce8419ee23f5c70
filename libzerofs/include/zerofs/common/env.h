// EnvLookup: how the library reads an environment variable.
//
// Code that consults the environment (the S3 credentials' AWS_* variables, the ${NAME}
// references of a config file) takes an EnvLookup instead of calling getenv itself, so a
// test can hand it a fixed map. ProcessEnv is the real environment. Reading the environment
// is thread-safe as long as nobody calls setenv meanwhile.
#pragma once

#include <optional>
#include <string>

namespace zerofs {

// The value of variable `name`, or nullopt when it is not set.
using EnvLookup = std::optional<std::string> (*)(const std::string& name);

// The process environment (getenv).
std::optional<std::string> ProcessEnv(const std::string& name);

}  // namespace zerofs
