# A monorepo calls its own module through git, as other repositories would. The checked tree is a
# clone of that repository, so the checkout's modules/bucket is read (not the tag the ref names),
# once per call with the call's inputs; the folder is not judged on its own.
module "frames" {
  source            = "git::https://github.com/acme/infra.git//modules/bucket?ref=v1.2.0"
  name              = "acme-frames"
  versioning_status = "Enabled"
}

module "logs" {
  source            = "git::ssh://git@github.com/acme/infra.git//modules/bucket?ref=main"
  name              = "acme-logs"
  versioning_status = "Suspended"
}
