// Uploads one file with tus-js-client (from npm) under Node; prints a JSON line per event.
// Usage: node tus_upload.cjs <deps folder> <json options>
//   options: endpoint, uploadUrl, key, path, chunkSize, filename, filetype, stopAfterChunks
const path = require('path')
const fs = require('fs')
const { createRequire } = require('module')

const deps = process.argv[2]
const options = JSON.parse(process.argv[3])
const tus = createRequire(path.join(deps, 'package.json'))('tus-js-client')

const size = fs.statSync(options.path).size
let chunks = 0
const upload = new tus.Upload(fs.createReadStream(options.path), {
  endpoint: options.endpoint || null,
  uploadUrl: options.uploadUrl || null,
  uploadSize: size,
  chunkSize: options.chunkSize,
  retryDelays: [200, 500],
  headers: { Authorization: `Bearer ${options.key}` },
  metadata: { filename: options.filename, filetype: options.filetype },
  onChunkComplete () {
    chunks += 1
    if (options.stopAfterChunks && chunks >= options.stopAfterChunks) {
      upload.abort().then(() => {
        console.log(JSON.stringify({ event: 'stopped', url: upload.url, chunks }))
        process.exit(0)
      })
    }
  },
  onError (error) {
    const status = error.originalResponse ? error.originalResponse.getStatus() : null
    console.log(JSON.stringify({ event: 'error', status, message: String(error) }))
    process.exit(0)
  },
  onSuccess () {
    console.log(JSON.stringify({ event: 'success', url: upload.url, chunks }))
  }
})
upload.start()
