import jsQRModule from 'jsqr'
import {
  PDFDocument,
  PDFDict,
  PDFName,
  type PDFNumber,
  PDFRawStream,
  type PDFRef,
  decodePDFRawStream,
} from 'pdf-lib'
import { extractText, getDocumentProxy } from 'unpdf'

/** jsqr is CommonJS whose module object is the decoder function; its types describe an ES default export. */
const jsQR = jsQRModule as unknown as (
  data: Uint8ClampedArray,
  width: number,
  height: number
) => { data: string } | null

/** The PDF's text as pdf.js extracts it, all pages merged. */
export async function pdfText(bytes: Uint8Array) {
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(bytes)), {
    mergePages: true,
  })
  return text
}

/** Every text item per page with its baseline (points from the bottom), as pdf.js places it. */
export async function pdfTextItems(bytes: Uint8Array) {
  const document = await getDocumentProxy(new Uint8Array(bytes))
  const pages: Array<Array<{ text: string; y: number }>> = []
  for (let number = 1; number <= document.numPages; number++) {
    const content = await (await document.getPage(number)).getTextContent()
    pages.push(
      content.items
        .filter((item) => 'str' in item && item.str.trim())
        .map((item) => ({
          text: (item as { str: string }).str,
          y: Math.round((item as { transform: number[] }).transform[5]),
        }))
    )
  }
  return pages
}

/**
 * Reads the QR codes drawn on the PDF's pages as a scanner would: every image XObject is decoded
 * (grey or RGB, 8 bits), scaled up 8 times and handed to jsQR.
 */
export async function scanPdfQrCodes(bytes: Uint8Array) {
  const document = await PDFDocument.load(bytes)
  const found: string[] = []
  for (const page of document.getPages()) {
    const xObjects = page.node.Resources()?.lookupMaybe(PDFName.of('XObject'), PDFDict)
    if (!xObjects) continue
    for (const [, ref] of xObjects.entries()) {
      const stream = document.context.lookup(ref as PDFRef)
      if (!(stream instanceof PDFRawStream)) continue
      if (stream.dict.get(PDFName.of('Subtype'))?.toString() !== '/Image') continue
      const width = (stream.dict.get(PDFName.of('Width')) as PDFNumber).asNumber()
      const height = (stream.dict.get(PDFName.of('Height')) as PDFNumber).asNumber()
      const channels =
        stream.dict.get(PDFName.of('ColorSpace'))?.toString() === '/DeviceGray' ? 1 : 3
      const pixels = decodePDFRawStream(stream).decode()
      const scale = 8
      const rgba = new Uint8ClampedArray(width * scale * height * scale * 4)
      for (let y = 0; y < height * scale; y++) {
        for (let x = 0; x < width * scale; x++) {
          const source = (Math.floor(y / scale) * width + Math.floor(x / scale)) * channels
          const target = (y * width * scale + x) * 4
          rgba[target] = pixels[source]
          rgba[target + 1] = pixels[source + (channels === 3 ? 1 : 0)]
          rgba[target + 2] = pixels[source + (channels === 3 ? 2 : 0)]
          rgba[target + 3] = 255
        }
      }
      const code = jsQR(rgba, width * scale, height * scale)
      if (code) found.push(code.data)
    }
  }
  return found
}
