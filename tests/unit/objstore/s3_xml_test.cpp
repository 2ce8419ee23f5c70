// The XML reader and the S3 response parsers: real answers as radosgw and AWS send them,
// and malformed or hostile input, which must fail cleanly (kCorruption), never crash.
#include <catch2/catch.hpp>
#include <random>

#include "objstore/s3/responses.h"
#include "objstore/s3/xml.h"

namespace zerofs::objstore::s3 {
namespace {

TEST_CASE("XML: elements, text, entities, CDATA, comments, namespaces") {
  auto doc = ParseXml(
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- hi -->"
      "<s3:Root xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\" a='1'>"
      "<A>x &amp; y &lt;&gt; &quot;&apos; &#65;&#x42;&#xe9;&#x1F600;</A>"
      "<B><![CDATA[<raw> & ]]></B><Empty/><C attr=\"v\" >t<!-- c -->u</C></s3:Root>\n");
  REQUIRE(doc.ok());
  CHECK(doc->name == "Root");
  REQUIRE(doc->children.size() == 4);
  CHECK(doc->ChildText("A") == "x & y <> \"' AB\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(doc->ChildText("B") == "<raw> & ");
  CHECK(doc->Child("Empty") != nullptr);
  CHECK(doc->ChildText("Empty").empty());
  CHECK(doc->ChildText("C") == "tu");
  CHECK(doc->Child("Missing") == nullptr);
  CHECK(doc->ChildText("Missing").empty());
}

TEST_CASE("XML: malformed documents are kCorruption") {
  const char* bad[] = {
      "",
      "   ",
      "<a>",
      "<a></b>",
      "<a><b></a></b>",
      "<a>&unknown;</a>",
      "<a>&#0;</a>",
      "<a>&#xD800;</a>",
      "<a>&#x110000;</a>",
      "<a>&#12a;</a>",
      "<a>&amp</a>",
      "<a x=1></a>",
      "<a x=\"1></a>",
      "<a></a><b></b>",
      "<a></a>trailing",
      "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
      "<a><!-- unterminated </a>",
      "<a><![CDATA[ unterminated </a>",
      "<>",
      "</a>",
      "<a><!ELEMENT x></a>",
  };
  for (const char* doc : bad) {
    INFO("document: " << doc);
    auto r = ParseXml(doc);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kCorruption);
  }
}

TEST_CASE("XML: limits on depth, elements and size") {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<a>";
  for (int i = 0; i < 40; ++i) deep += "</a>";
  CHECK(ParseXml(deep).status().code() == StatusCode::kCorruption);
  XmlLimits limits;
  limits.max_depth = 64;
  CHECK(ParseXml(deep, limits).ok());
  limits.max_elements = 10;
  CHECK_FALSE(ParseXml(deep, limits).ok());
  limits = XmlLimits{};
  limits.max_bytes = 8;
  CHECK_FALSE(ParseXml("<a>123456</a>", limits).ok());
}

TEST_CASE("XML: random mutations of a real answer never crash") {
  const std::string base =
      "<?xml version=\"1.0\"?><ListBucketResult><Name>b</Name><IsTruncated>true</IsTruncated>"
      "<Contents><Key>a%20b</Key><Size>12</Size><ETag>&quot;x&quot;</ETag></Contents>"
      "<EncodingType>url</EncodingType></ListBucketResult>";
  std::mt19937 rng(Catch::rngSeed());
  for (int i = 0; i < 20000; ++i) {
    std::string doc = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % doc.size();
      switch (rng() % 3) {
        case 0: doc[at] = static_cast<char>(rng() % 256); break;
        case 1: doc.erase(at, 1 + rng() % 8); break;
        default: doc.insert(at, 1, "<>&;/\"'"[rng() % 7]); break;
      }
      if (doc.empty()) doc = "<";
    }
    (void)ParseXml(doc);
    (void)ParseListObjectsV2(doc);
    (void)ParseDeleteResult(doc);
    (void)ParseError(doc);
  }
}

TEST_CASE("XML: escaping round-trips through the reader") {
  const std::string text = "a&b<c>d\"e'f\tg\nh\ri";
  auto doc = ParseXml("<k>" + XmlEscape(text) + "</k>");
  REQUIRE(doc.ok());
  CHECK(doc->text == text);
  CHECK(XmlRepresentable(text));
  CHECK_FALSE(XmlRepresentable(std::string("a\x01", 2)));
  CHECK_FALSE(XmlRepresentable(std::string("\x1f", 1)));
}

TEST_CASE("S3: ListObjectsV2 as radosgw answers it") {
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>zerofs-test</Name>"
      "<Prefix>p%2F</Prefix><MaxKeys>2</MaxKeys><EncodingType>url</EncodingType>"
      "<IsTruncated>true</IsTruncated><Contents><Key>p/a%20b%2Bc</Key>"
      "<LastModified>2026-11-24T05:33:12.000Z</LastModified>"
      "<ETag>&quot;5d41402abc4b2a76b9719d911017c592&quot;</ETag><Size>5</Size>"
      "<StorageClass>STANDARD</StorageClass></Contents><Contents><Key>p/caf%C3%A9+x</Key>"
      "<ETag>\"e-2\"</ETag><Size>18446744073709551615</Size></Contents><KeyCount>2</KeyCount>"
      "<NextContinuationToken>tok</NextContinuationToken></ListBucketResult>";
  auto page = ParseListObjectsV2(body);
  REQUIRE(page.ok());
  CHECK(page->truncated);
  CHECK(page->next_continuation_token == "tok");
  REQUIRE(page->objects.size() == 2);
  CHECK(page->objects[0].key == "p/a b+c");
  CHECK(page->objects[0].size == 5);
  CHECK(page->objects[0].etag == "5d41402abc4b2a76b9719d911017c592");
  CHECK(page->objects[1].key == "p/caf\xC3\xA9 x");
  CHECK(page->objects[1].size == 18446744073709551615ULL);
  CHECK(page->objects[1].etag == "e-2");

  auto plain = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a%20b</Key>"
      "<Size>0</Size></Contents></ListBucketResult>");
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->truncated);
  CHECK(plain->objects.at(0).key == "a%20b");  // not encoded by the server: kept verbatim

  auto empty = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "</ListBucketResult>");
  REQUIRE(empty.ok());
  CHECK(empty->objects.empty());
}

TEST_CASE("S3: malformed listings are kCorruption") {
  const char* bad[] = {
      "<Error><Code>X</Code></Error>",
      "<ListBucketResult></ListBucketResult>",
      "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Size>1</Size>"
      "</Contents></ListBucketResult>",
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
      "<Size>-1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
      "<Size>18446744073709551616</Size></Contents></ListBucketResult>",
      "<ListBucketResult><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType>"
      "<Contents><Key>bad%zz</Key><Size>1</Size></Contents></ListBucketResult>",
  };
  for (const char* doc : bad) {
    INFO("document: " << doc);
    auto r = ParseListObjectsV2(doc);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kCorruption);
  }
}

TEST_CASE("S3: error, multipart and delete documents") {
  auto err = ParseError(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>The "
      "specified key does not exist.</Message><Key>a/b</Key><RequestId>tx1</RequestId></Error>");
  REQUIRE(err.ok());
  CHECK(err->code == "NoSuchKey");
  CHECK(err->message == "The specified key does not exist.");
  CHECK(err->key == "a/b");
  CHECK(err->request_id == "tx1");
  CHECK_FALSE(ParseError("<html>502 Bad Gateway</html>").ok());

  auto id = ParseInitiateMultipartUpload(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>2~abc</UploadId>"
      "</InitiateMultipartUploadResult>");
  REQUIRE(id.ok());
  CHECK(*id == "2~abc");
  CHECK_FALSE(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>").ok());

  auto done = ParseCompleteMultipartUpload(
      "<CompleteMultipartUploadResult><ETag>&quot;abc-3&quot;</ETag>"
      "</CompleteMultipartUploadResult>");
  REQUIRE(done.ok());
  CHECK_FALSE(done->is_error);
  CHECK(done->etag == "abc-3");
  auto late = ParseCompleteMultipartUpload(
      "<Error><Code>InternalError</Code><Message>try again</Message></Error>");
  REQUIRE(late.ok());
  CHECK(late->is_error);
  CHECK(late->error.code == "InternalError");
  CHECK_FALSE(ParseCompleteMultipartUpload("<Other/>").ok());

  auto deleted = ParseDeleteResult(
      "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied"
      "</Code><Message>no</Message></Error><Error><Key>c</Key><Code>NoSuchKey</Code></Error>"
      "</DeleteResult>");
  REQUIRE(deleted.ok());
  REQUIRE(deleted->size() == 2);
  CHECK((*deleted)[0].key == "b");
  CHECK((*deleted)[0].code == "AccessDenied");
  CHECK((*deleted)[1].key == "c");
  CHECK_FALSE(ParseDeleteResult("<Error><Code>AccessDenied</Code></Error>").ok());
}

TEST_CASE("S3: request bodies") {
  const std::vector<std::string> keys = {"a&b", "c<d>"};
  const std::string del = DeleteObjectsBody(keys);
  CHECK(del.find("<Quiet>true</Quiet>") != std::string::npos);
  CHECK(del.find("<Object><Key>a&amp;b</Key></Object><Object><Key>c&lt;d&gt;</Key></Object>") !=
        std::string::npos);
  auto reparsed = ParseXml(del);
  REQUIRE(reparsed.ok());
  CHECK(reparsed->children.size() == 3);

  const std::vector<std::string> etags = {"e1", "e2"};
  CHECK(CompleteMultipartUploadBody(etags) ==
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag>"
        "</Part><Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part>"
        "</CompleteMultipartUpload>");
}

TEST_CASE("S3: percent-decoding and etag quotes") {
  CHECK(PercentDecode("a%2Fb%2bc+d").value() == "a/b+c d");
  CHECK_FALSE(PercentDecode("%").ok());
  CHECK_FALSE(PercentDecode("%4").ok());
  CHECK_FALSE(PercentDecode("%g0").ok());
  CHECK(UnquoteEtag("\"abc\"") == "abc");
  CHECK(UnquoteEtag("abc") == "abc");
  CHECK(UnquoteEtag("\"") == "\"");
}

}  // namespace
}  // namespace zerofs::objstore::s3
