resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_acl" "frames" {
  bucket = aws_s3_bucket.frames.id
  acl    = "public-read"
}

resource "aws_s3_bucket" "thumbs" {
  bucket = "acme-thumbs"
}

resource "aws_s3_bucket_policy" "thumbs" {
  bucket = aws_s3_bucket.thumbs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.thumbs.arn}/*"
    }]
  })
}
