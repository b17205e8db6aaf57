/*
 * webp-floor.c - the least libwebp work a WebP sanitizer must do, as a
 * yardstick for `make bench` (tools/bench.sh builds it): decode to RGBA
 * and encode again with the settings libimsafe uses, validating nothing
 * and applying no policy.
 *
 *   webp-floor still QUALITY IN OUT   a still: lossless input -> lossless
 *                                     (exact), lossy -> lossy at QUALITY
 *   webp-floor anim QUALITY IN OUT    an animation through WebPAnimDecoder
 *                                     and WebPAnimEncoder (lossless when
 *                                     no frame is lossy)
 *
 * Build: gcc -O2 -o webp-floor webp-floor.c -lwebpmux -lwebpdemux -lwebp
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p = NULL;
    long len;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (p = malloc((size_t)len + 1)) == NULL ||
        fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    if (f != NULL)
        fclose(f);
    *n = p ? (size_t)len : 0;
    return p;
}

static int spit(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(p, 1, n, f) == n;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    return ok;
}

/* Lossy if any VP8 chunk is present (as libimsafe decides). */
static int lossy(const uint8_t *p, size_t n)
{
    WebPBitstreamFeatures ft;
    if (WebPGetFeatures(p, n, &ft) != VP8_STATUS_OK)
        return 0;
    if (!ft.has_animation)
        return ft.format == 1;
    WebPData d = {p, n};
    WebPDemuxer *dm = WebPDemux(&d);
    WebPIterator it;
    int any = 0;
    if (dm != NULL && WebPDemuxGetFrame(dm, 1, &it)) {
        do {
            WebPBitstreamFeatures f2;
            any |= WebPGetFeatures(it.fragment.bytes, it.fragment.size, &f2) == VP8_STATUS_OK &&
                   f2.format == 1;
        } while (WebPDemuxNextFrame(&it));
        WebPDemuxReleaseIterator(&it);
    }
    WebPDemuxDelete(dm);
    return any;
}

/* libimsafe's settings (libimsafe/webp.c): lossy canvases over 4 MP at
 * method 2 */
static void config(WebPConfig *c, int is_lossy, float q, uint64_t pixels)
{
    WebPConfigInit(c);
    if (is_lossy) {
        c->quality = q;
        if (pixels > (4u << 20))
            c->method = 2;
    } else {
        c->lossless = 1;
        c->exact = 1;
    }
}

static int still(const uint8_t *in, size_t n, float q, const char *out)
{
    int w, h, ok = 0;
    uint8_t *rgba = WebPDecodeRGBA(in, n, &w, &h);
    WebPConfig c;
    WebPPicture pic;
    WebPMemoryWriter mw;
    if (rgba == NULL)
        return 0;
    config(&c, lossy(in, n), q, (uint64_t)w * (uint64_t)h);
    WebPPictureInit(&pic);
    WebPMemoryWriterInit(&mw);
    pic.width = w;
    pic.height = h;
    pic.use_argb = c.lossless;
    pic.writer = WebPMemoryWrite;
    pic.custom_ptr = &mw;
    if (WebPPictureImportRGBA(&pic, rgba, w * 4) && WebPEncode(&c, &pic))
        ok = spit(out, mw.mem, mw.size);
    WebPPictureFree(&pic);
    WebPMemoryWriterClear(&mw);
    WebPFree(rgba);
    return ok;
}

static int anim(const uint8_t *in, size_t n, float q, const char *out)
{
    WebPData d = {in, n}, o = {NULL, 0};
    WebPAnimDecoderOptions dopt;
    WebPAnimEncoderOptions eopt;
    WebPAnimInfo info;
    WebPConfig c;
    WebPPicture pic;
    int ok = 0, start = 0;
    WebPAnimDecoderOptionsInit(&dopt);
    dopt.color_mode = MODE_RGBA;
    WebPAnimDecoder *dec = WebPAnimDecoderNew(&d, &dopt);
    if (dec == NULL || !WebPAnimDecoderGetInfo(dec, &info))
        return 0;
    WebPAnimEncoderOptionsInit(&eopt);
    eopt.anim_params.loop_count = (int)info.loop_count;
    eopt.anim_params.bgcolor = info.bgcolor;
    WebPAnimEncoder *enc =
        WebPAnimEncoderNew((int)info.canvas_width, (int)info.canvas_height, &eopt);
    config(&c, lossy(in, n), q, (uint64_t)info.canvas_width * info.canvas_height);
    WebPPictureInit(&pic);
    pic.width = (int)info.canvas_width;
    pic.height = (int)info.canvas_height;
    pic.use_argb = 1;
    while (enc != NULL && WebPAnimDecoderHasMoreFrames(dec)) {
        uint8_t *buf;
        int end;
        if (!WebPAnimDecoderGetNext(dec, &buf, &end) ||
            !WebPPictureImportRGBA(&pic, buf, pic.width * 4) ||
            !WebPAnimEncoderAdd(enc, &pic, start, &c))
            goto done;
        start = end;
    }
    if (enc != NULL && WebPAnimEncoderAdd(enc, NULL, start, NULL) &&
        WebPAnimEncoderAssemble(enc, &o))
        ok = spit(out, o.bytes, o.size);
done:
    WebPDataClear(&o);
    WebPPictureFree(&pic);
    WebPAnimEncoderDelete(enc);
    WebPAnimDecoderDelete(dec);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "still") != 0 && strcmp(argv[1], "anim") != 0)) {
        fprintf(stderr, "usage: webp-floor still|anim QUALITY IN OUT\n");
        return 2;
    }
    size_t n;
    unsigned char *in = slurp(argv[3], &n);
    if (in == NULL) {
        fprintf(stderr, "webp-floor: cannot read %s\n", argv[3]);
        return 2;
    }
    float q = (float)atof(argv[2]);
    int ok = strcmp(argv[1], "still") == 0 ? still(in, n, q, argv[4]) : anim(in, n, q, argv[4]);
    free(in);
    if (!ok)
        fprintf(stderr, "webp-floor: %s failed\n", argv[3]);
    return ok ? 0 : 1;
}
