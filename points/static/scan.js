// The counter reads a household card's QR code with the phone's camera and opens that
// household. The browser's own BarcodeDetector where it reads QR codes, else jsQR (vendored,
// served by this site). Without a camera the clerk types the code; the page works without this.
(function () {
  "use strict";

  var button = document.getElementById("scan");
  if (!button || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
  var box = document.getElementById("scanner");
  var video = document.getElementById("scan-video");
  var status = document.getElementById("scan-status");
  var stop = document.getElementById("scan-stop");
  var stream = null;
  var timer = null;
  button.hidden = false;

  function say(name) { status.textContent = status.dataset[name] || ""; }

  function close() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    video.srcObject = null;
    box.hidden = true;
    button.hidden = false;
  }

  function open(code) {
    close();
    say("found");
    var url = button.dataset.counter + "?shop=" + encodeURIComponent(button.dataset.shop) +
      "&holder=" + encodeURIComponent(code.trim());
    window.location.assign(url);
  }

  // A reader: a function of the video that resolves to the code read, or null.
  function nativeReader() {
    if (!("BarcodeDetector" in window)) { return Promise.resolve(null); }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) { return null; }
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return function () {
        return detector.detect(video).then(function (found) { return found.length ? found[0].rawValue : null; });
      };
    }, function () { return null; });
  }

  function loadJsQR() {
    if (window.jsQR) { return Promise.resolve(); }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = button.dataset.decoder;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function jsQRReader() {
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    return loadJsQR().then(function () {
      return function () {
        var w = video.videoWidth, h = video.videoHeight;
        if (!w || !h) { return Promise.resolve(null); }
        var scale = Math.min(1, 640 / Math.max(w, h));
        canvas.width = Math.round(w * scale);
        canvas.height = Math.round(h * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
        return Promise.resolve(code && code.data ? code.data : null);
      };
    });
  }

  function reader() {
    return nativeReader().then(function (read) {
      if (read) { status.dataset.decoder = "native"; return read; }
      status.dataset.decoder = "jsqr";
      return jsQRReader();
    });
  }

  function watch(read) {
    if (!stream) { return; }
    read().then(function (code) {
      if (code && code.trim()) { open(code); return; }
      timer = setTimeout(function () { watch(read); }, 200);
    }, function () {
      timer = setTimeout(function () { watch(read); }, 200);
    });
  }

  button.addEventListener("click", function () {
    button.hidden = true;
    box.hidden = false;
    video.hidden = false;
    stop.hidden = false;
    say("starting");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        return video.play();
      })
      .then(reader)
      .then(function (read) { say("looking"); watch(read); })
      .catch(failed);
  });

  // No camera, or the clerk said no: say so and go back to typing the code.
  function failed() {
    close();
    box.hidden = false;
    video.hidden = true;
    stop.hidden = true;
    say("failed");
    document.getElementById("q").focus();
  }

  stop.addEventListener("click", close);
})();
