#include "objstore/s3/responses.h"

#include <charconv>

#include "objstore/s3/xml.h"
#include "zerofs/common/coding.h"

namespace zerofs::objstore::s3 {
namespace {

Result<XmlElement> ParseRoot(std::string_view body, std::string_view expected_root) {
  ZEROFS_ASSIGN_OR_RETURN(XmlElement root, ParseXml(body));
  if (root.name != expected_root) {
    return Status::Corruption("expected an S3 <" + std::string(expected_root) +
                              "> document, got <" + root.name + ">");
  }
  return root;
}

S3Error ErrorFrom(const XmlElement& e) {
  return S3Error{std::string(e.ChildText("Code")), std::string(e.ChildText("Message")),
                 std::string(e.ChildText("Key")), std::string(e.ChildText("RequestId"))};
}

Result<std::uint64_t> ParseSize(std::string_view s) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return Status::Corruption("bad object size '" + std::string(s) + "' in a listing");
  }
  return value;
}

}  // namespace

Result<S3Error> ParseError(std::string_view body) {
  ZEROFS_ASSIGN_OR_RETURN(XmlElement root, ParseRoot(body, "Error"));
  return ErrorFrom(root);
}

Result<ListObjectsPage> ParseListObjectsV2(std::string_view body) {
  ZEROFS_ASSIGN_OR_RETURN(XmlElement root, ParseRoot(body, "ListBucketResult"));
  ListObjectsPage page;
  const std::string_view truncated = root.ChildText("IsTruncated");
  if (truncated == "true") {
    page.truncated = true;
  } else if (truncated != "false") {
    return Status::Corruption("listing has IsTruncated '" + std::string(truncated) + "'");
  }
  page.next_continuation_token = std::string(root.ChildText("NextContinuationToken"));
  const bool url_encoded = root.ChildText("EncodingType") == "url";
  for (const XmlElement& child : root.children) {
    if (child.name != "Contents") continue;
    const XmlElement* key = child.Child("Key");
    if (key == nullptr || key->text.empty()) {
      return Status::Corruption("listing has an entry without a key");
    }
    ListedObject obj;
    if (url_encoded) {
      ZEROFS_ASSIGN_OR_RETURN(obj.key, PercentDecode(key->text));
    } else {
      obj.key = key->text;
    }
    ZEROFS_ASSIGN_OR_RETURN(obj.size, ParseSize(child.ChildText("Size")));
    obj.etag = UnquoteEtag(child.ChildText("ETag"));
    page.objects.push_back(std::move(obj));
  }
  return page;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view body) {
  ZEROFS_ASSIGN_OR_RETURN(XmlElement root, ParseRoot(body, "InitiateMultipartUploadResult"));
  std::string upload_id(root.ChildText("UploadId"));
  if (upload_id.empty()) return Status::Corruption("multipart upload started without an UploadId");
  return upload_id;
}

Result<CompleteMultipartOutcome> ParseCompleteMultipartUpload(std::string_view body) {
  ZEROFS_ASSIGN_OR_RETURN(XmlElement root, ParseXml(body));
  CompleteMultipartOutcome out;
  if (root.name == "Error") {
    out.is_error = true;
    out.error = ErrorFrom(root);
    return out;
  }
  if (root.name != "CompleteMultipartUploadResult") {
    return Status::Corruption("expected <CompleteMultipartUploadResult>, got <" + root.name + ">");
  }
  out.etag = UnquoteEtag(root.ChildText("ETag"));
  return out;
}

Result<std::vector<S3Error>> ParseDeleteResult(std::string_view body) {
  ZEROFS_ASSIGN_OR_RETURN(XmlElement root, ParseRoot(body, "DeleteResult"));
  std::vector<S3Error> errors;
  for (const XmlElement& child : root.children) {
    if (child.name == "Error") errors.push_back(ErrorFrom(child));
  }
  return errors;
}

std::string CompleteMultipartUploadBody(std::span<const std::string> part_etags) {
  std::string out = "<CompleteMultipartUpload>";
  for (std::size_t i = 0; i < part_etags.size(); ++i) {
    out += "<Part><PartNumber>";
    out += std::to_string(i + 1);
    out += "</PartNumber><ETag>&quot;";
    out += XmlEscape(part_etags[i]);
    out += "&quot;</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

std::string DeleteObjectsBody(std::span<const std::string> keys) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>";
  for (const std::string& key : keys) {
    out += "<Object><Key>";
    out += XmlEscape(key);
    out += "</Key></Object>";
  }
  out += "</Delete>";
  return out;
}

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] != '%') {
      out += s[i];
    } else {
      const int hi = i + 2 < s.size() ? coding::HexValue(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? coding::HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Status::Corruption("bad percent-escape in '" + std::string(s) + "'");
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

std::string UnquoteEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

}  // namespace zerofs::objstore::s3
