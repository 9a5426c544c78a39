// Uppy 6 for the test page, bundled by esbuild at test time.
import Uppy from '@uppy/core'
import AwsS3 from '@uppy/aws-s3'
import Tus from '@uppy/tus'

window.UppyLib = { Uppy, AwsS3, Tus, version: 6 }
