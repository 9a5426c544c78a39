// Uppy 5 (its S3 plugin's `endpoint` option), bundled by esbuild at test time.
import Uppy from '@uppy/core'
import AwsS3 from '@uppy/aws-s3'

window.UppyLib = { Uppy, AwsS3, version: 5 }
