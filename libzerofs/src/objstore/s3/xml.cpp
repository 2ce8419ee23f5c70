#include "objstore/s3/xml.h"

#include <algorithm>
#include <cstdint>

#include "zerofs/common/coding.h"

namespace zerofs::objstore::s3 {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool IsNameChar(char c) {
  return !IsSpace(c) && c != '<' && c != '>' && c != '/' && c != '=' && c != '"' && c != '\'' &&
         c != '&';
}

void AppendUtf8(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  Parser(std::string_view doc, const XmlLimits& limits) : doc_(doc), limits_(limits) {}

  Result<XmlElement> Document() {
    if (doc_.size() > limits_.max_bytes) {
      return Status::Corruption("XML document of " + std::to_string(doc_.size()) +
                                " bytes exceeds the limit of " + std::to_string(limits_.max_bytes));
    }
    if (doc_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    ZEROFS_RETURN_IF_ERROR(SkipMisc());
    if (AtEnd()) return Error("no root element");
    XmlElement root;
    ZEROFS_RETURN_IF_ERROR(Element(root, 1));
    ZEROFS_RETURN_IF_ERROR(SkipMisc());
    if (!AtEnd()) return Error("content after the root element");
    return root;
  }

 private:
  bool AtEnd() const { return pos_ >= doc_.size(); }
  bool LookingAt(std::string_view s) const { return doc_.substr(pos_, s.size()) == s; }

  Status Error(std::string_view why) const {
    return Status::Corruption("malformed XML at byte " + std::to_string(pos_) + ": " +
                              std::string(why));
  }

  void SkipSpace() {
    while (!AtEnd() && IsSpace(doc_[pos_])) ++pos_;
  }

  // Moves past the next occurrence of `end`.
  Status SkipPast(std::string_view end, std::string_view what) {
    const std::size_t at = doc_.find(end, pos_);
    if (at == std::string_view::npos) return Error("unterminated " + std::string(what));
    pos_ = at + end.size();
    return Status::Ok();
  }

  // Whitespace, comments and processing instructions (including the XML declaration),
  // which may surround the root element.
  Status SkipMisc() {
    for (;;) {
      SkipSpace();
      if (LookingAt("<?")) {
        ZEROFS_RETURN_IF_ERROR(SkipPast("?>", "processing instruction"));
      } else if (LookingAt("<!--")) {
        ZEROFS_RETURN_IF_ERROR(SkipPast("-->", "comment"));
      } else if (LookingAt("<!")) {
        return Error("DTDs and declarations are not supported");
      } else {
        return Status::Ok();
      }
    }
  }

  Result<std::string_view> Name() {
    const std::size_t start = pos_;
    while (!AtEnd() && IsNameChar(doc_[pos_])) ++pos_;
    if (pos_ == start) return Error("expected a name");
    return doc_.substr(start, pos_ - start);
  }

  Status Reference(std::string& out) {
    const std::size_t semi = doc_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return Error("bad entity reference");
    const std::string_view ref = doc_.substr(pos_ + 1, semi - pos_ - 1);
    if (ref == "lt") {
      out += '<';
    } else if (ref == "gt") {
      out += '>';
    } else if (ref == "amp") {
      out += '&';
    } else if (ref == "quot") {
      out += '"';
    } else if (ref == "apos") {
      out += '\'';
    } else if (ref.size() >= 2 && ref[0] == '#') {
      const bool hex = ref[1] == 'x' || ref[1] == 'X';
      const std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return Error("empty character reference");
      std::uint32_t cp = 0;
      for (char c : digits) {
        const int d = hex ? coding::HexValue(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
        if (d < 0) return Error("bad character reference");
        cp = cp * (hex ? 16u : 10u) + static_cast<std::uint32_t>(d);
        if (cp > 0x10FFFF) return Error("character reference out of range");
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return Error("invalid character reference");
      AppendUtf8(cp, out);
    } else {
      return Error("unknown entity '&" + std::string(ref) + ";'");
    }
    pos_ = semi + 1;
    return Status::Ok();
  }

  Status Attributes(bool& empty_element) {
    for (;;) {
      SkipSpace();
      if (AtEnd()) return Error("unterminated start tag");
      if (LookingAt("/>")) {
        pos_ += 2;
        empty_element = true;
        return Status::Ok();
      }
      if (doc_[pos_] == '>') {
        ++pos_;
        empty_element = false;
        return Status::Ok();
      }
      ZEROFS_ASSIGN_OR_RETURN(std::string_view attr, Name());
      (void)attr;
      SkipSpace();
      if (AtEnd() || doc_[pos_] != '=') return Error("expected '=' after an attribute name");
      ++pos_;
      SkipSpace();
      if (AtEnd() || (doc_[pos_] != '"' && doc_[pos_] != '\'')) {
        return Error("expected a quoted attribute value");
      }
      const char quote = doc_[pos_++];
      const std::size_t close = doc_.find(quote, pos_);
      if (close == std::string_view::npos) return Error("unterminated attribute value");
      if (doc_.substr(pos_, close - pos_).find('<') != std::string_view::npos) {
        return Error("'<' in an attribute value");
      }
      pos_ = close + 1;
    }
  }

  Status Element(XmlElement& out, std::size_t depth) {
    if (depth > limits_.max_depth) return Error("elements nested too deeply");
    if (++elements_ > limits_.max_elements) return Error("too many elements");
    if (AtEnd() || doc_[pos_] != '<') return Error("expected '<'");
    ++pos_;
    ZEROFS_ASSIGN_OR_RETURN(std::string_view raw_name, Name());
    const std::size_t colon = raw_name.rfind(':');
    out.name = std::string(colon == std::string_view::npos ? raw_name : raw_name.substr(colon + 1));
    bool empty_element = false;
    ZEROFS_RETURN_IF_ERROR(Attributes(empty_element));
    if (empty_element) return Status::Ok();
    for (;;) {
      if (AtEnd()) return Error("unterminated element <" + std::string(raw_name) + ">");
      const char c = doc_[pos_];
      if (c == '&') {
        ZEROFS_RETURN_IF_ERROR(Reference(out.text));
      } else if (c != '<') {
        // A run of plain characters at once.
        const std::size_t end = std::min(doc_.find_first_of("<&", pos_), doc_.size());
        out.text += doc_.substr(pos_, end - pos_);
        pos_ = end;
      } else if (LookingAt("</")) {
        pos_ += 2;
        ZEROFS_ASSIGN_OR_RETURN(std::string_view close, Name());
        SkipSpace();
        if (AtEnd() || doc_[pos_] != '>') return Error("unterminated end tag");
        if (close != raw_name) {
          return Error("</" + std::string(close) + "> closes <" + std::string(raw_name) + ">");
        }
        ++pos_;
        return Status::Ok();
      } else if (LookingAt("<!--")) {
        ZEROFS_RETURN_IF_ERROR(SkipPast("-->", "comment"));
      } else if (LookingAt("<![CDATA[")) {
        pos_ += 9;
        const std::size_t end = doc_.find("]]>", pos_);
        if (end == std::string_view::npos) return Error("unterminated CDATA section");
        out.text += doc_.substr(pos_, end - pos_);
        pos_ = end + 3;
      } else if (LookingAt("<?")) {
        ZEROFS_RETURN_IF_ERROR(SkipPast("?>", "processing instruction"));
      } else if (LookingAt("<!")) {
        return Error("declaration inside an element");
      } else {
        out.children.emplace_back();
        ZEROFS_RETURN_IF_ERROR(Element(out.children.back(), depth + 1));
      }
    }
  }

  std::string_view doc_;
  const XmlLimits& limits_;
  std::size_t pos_ = 0;
  std::size_t elements_ = 0;
};

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const XmlElement& child : children) {
    if (child.name == child_name) return &child;
  }
  return nullptr;
}

std::string_view XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* child = Child(child_name);
  if (child == nullptr) return {};
  return child->text;
}

Result<XmlElement> ParseXml(std::string_view document, const XmlLimits& limits) {
  return Parser(document, limits).Document();
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default: out += c;
    }
  }
  return out;
}

bool XmlRepresentable(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

}  // namespace zerofs::objstore::s3
