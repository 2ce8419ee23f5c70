// A small, strict XML reader for S3 response bodies.
//
// S3 answers with short, flat XML documents (ListBucketResult, Error, DeleteResult,
// InitiateMultipartUploadResult, CompleteMultipartUploadResult). This reader turns such a
// document into a tree of elements with their character data, which is all those
// documents need. It is a function from untrusted bytes to a Result: malformed input is
// kCorruption naming the byte offset, never a crash, and it is bounded in size, depth and
// element count. It deliberately does not support DTDs (a DOCTYPE is rejected, so entity
// expansion attacks cannot happen) and ignores attributes and namespaces (a prefix such
// as "s3:" is stripped from names). Character references and the five predefined entities
// are decoded; CDATA sections are kept verbatim. Line endings are not normalized.
//
// Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"

namespace zerofs::objstore::s3 {

struct XmlElement {
  std::string name;  // local name, without a namespace prefix
  std::string text;  // the character data directly inside this element, concatenated
  std::vector<XmlElement> children;

  // The first child called `name`, or nullptr.
  const XmlElement* Child(std::string_view child_name) const;
  // The text of the first child called `name`, or "" when there is none.
  std::string_view ChildText(std::string_view child_name) const;
};

struct XmlLimits {
  std::size_t max_bytes = 64u << 20;
  std::size_t max_depth = 32;
  std::size_t max_elements = 1u << 20;
};

// Parses one document and returns its root element.
Result<XmlElement> ParseXml(std::string_view document, const XmlLimits& limits = {});

// Escapes & < > " ' and the control characters XML allows (tab, LF, CR, which a parser
// would otherwise normalize) for use as character data.
std::string XmlEscape(std::string_view text);

// Whether `text` can travel in an XML 1.0 document at all: the other control characters
// below 0x20 cannot, not even as character references.
bool XmlRepresentable(std::string_view text);

}  // namespace zerofs::objstore::s3
