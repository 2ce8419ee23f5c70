# S3Store's pieces that need no server: SigV4, XML, credentials, error mapping.
zerofs_test(unit_s3 unit
  s3_sigv4_test.cpp s3_xml_test.cpp s3_credentials_test.cpp s3_errors_test.cpp)
