// The S3 XML documents S3Store sends and receives, as plain structs.
//
// Each Parse* function is a fuzzable function from the untrusted response body to a
// Result: a body that is not the expected document is kCorruption saying what was wrong.
// Keys in these structs are full bucket keys (the store's prefix included); S3Store maps
// them to store keys. Etags are returned without their surrounding quotes.
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"

namespace zerofs::objstore::s3 {

// <Error><Code/><Message/><Key/><RequestId/></Error>, as sent with 4xx and 5xx answers (and
// inside a 200 answer to CompleteMultipartUpload when the completion failed late).
struct S3Error {
  std::string code;        // "NoSuchKey", "SlowDown", ...
  std::string message;     // human-readable, may be empty (radosgw often leaves it so)
  std::string key;         // for errors about one key, e.g. inside DeleteResult
  std::string request_id;  // for support requests to the storage provider
};

// Fails unless `body` is an <Error> document.
Result<S3Error> ParseError(std::string_view body);

struct ListedObject {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;
};

// One page of ListObjectsV2 (<ListBucketResult>). Keys are percent-decoded when the server
// says it encoded them (EncodingType url, which S3Store asks for so that any key survives
// the trip through XML).
struct ListObjectsPage {
  std::vector<ListedObject> objects;
  bool truncated = false;
  std::string next_continuation_token;
};
Result<ListObjectsPage> ParseListObjectsV2(std::string_view body);

// The UploadId of an <InitiateMultipartUploadResult>.
Result<std::string> ParseInitiateMultipartUpload(std::string_view body);

// A <CompleteMultipartUploadResult> (etag set) or an <Error> (is_error and error set): S3
// may report a failed completion with status 200 and an error document.
struct CompleteMultipartOutcome {
  bool is_error = false;
  S3Error error;
  std::string etag;
};
Result<CompleteMultipartOutcome> ParseCompleteMultipartUpload(std::string_view body);

// The <Error> entries of a <DeleteResult>; with <Quiet>true</Quiet> only failures are
// listed, so an empty vector means every key was deleted.
Result<std::vector<S3Error>> ParseDeleteResult(std::string_view body);

// Request bodies. Keys must be XmlRepresentable() (xml.h).
std::string CompleteMultipartUploadBody(std::span<const std::string> part_etags);
std::string DeleteObjectsBody(std::span<const std::string> keys);

// "%41b+c" -> "Ab c". '+' is a space: S3 encodes listings as form data, and encodes a
// literal '+' as %2B. A malformed escape is kCorruption.
Result<std::string> PercentDecode(std::string_view s);

// Strips the quotes S3 puts around etags ("\"abc\"" -> "abc"); other values pass as they are.
std::string UnquoteEtag(std::string_view etag);

}  // namespace zerofs::objstore::s3
