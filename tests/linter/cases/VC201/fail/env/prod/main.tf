module "private" {
  source = "../../modules/bucket"
  name   = "acme-private"
}

module "media" {
  source = "../../modules/bucket"
  name   = "acme-media"
  acl    = "public-read"
}
