// page.evaluate(script, messageId): a received message's media as base64 (wa-js downloadMedia gives a Blob).
async (id) => {
  const blob = await WPP.chat.downloadMedia(id);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { base64: btoa(binary), mimetype: blob.type || null };
}
