// The item's BPMN diagram (bpmn-js viewer) with finished steps green and current steps yellow, zoomed
// with the buttons above it, Ctrl + wheel, or two fingers; moved by dragging.
(function () {
  var container = document.getElementById('diagram');
  if (!container || !window.BpmnJS) return;
  var viewer = new window.BpmnJS({ container: container });
  var canvas = viewer.get('canvas');

  document.querySelectorAll('[data-zoom]').forEach(function (button) {
    button.addEventListener('click', function () {
      var how = button.dataset.zoom;
      if (how === 'fit') canvas.zoom('fit-viewport', 'auto');
      else canvas.zoom(canvas.zoom() * (how === 'in' ? 1.25 : 0.8), 'auto');
    });
  });

  // Touch: the viewer itself only follows a mouse. One finger drags the diagram sideways (up and down
  // still scroll the page, .diagram has touch-action: pan-y); two fingers pinch to zoom and move it.
  var last = null;
  function spot(touches) {
    var box = container.getBoundingClientRect();
    var a = touches[0], b = touches[1] || touches[0];
    return { x: (a.clientX + b.clientX) / 2 - box.left, y: (a.clientY + b.clientY) / 2 - box.top,
             apart: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY), fingers: touches.length };
  }
  container.addEventListener('touchstart', function (event) { last = spot(event.touches); }, { passive: true });
  container.addEventListener('touchmove', function (event) {
    if (!last) return;
    var now = spot(event.touches);
    if (now.fingers !== last.fingers) { last = now; return; }
    if (now.fingers === 2) {
      event.preventDefault();
      if (last.apart > 0) canvas.zoom(canvas.zoom() * now.apart / last.apart, { x: now.x, y: now.y });
      canvas.scroll({ dx: now.x - last.x, dy: now.y - last.y });
    } else {
      canvas.scroll({ dx: now.x - last.x, dy: 0 });
    }
    last = now;
  }, { passive: false });
  container.addEventListener('touchend', function (event) { last = event.touches.length ? spot(event.touches) : null; });

  fetch(container.dataset.src, { credentials: 'same-origin' })
    .then(function (response) { return response.json(); })
    .then(function (data) {
      return viewer.importXML(data.xml).then(function () {
        var registry = viewer.get('elementRegistry');
        data.done.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, 'done'); });
        data.current.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, 'current'); });
        canvas.zoom('fit-viewport');
        container.dataset.ready = 'true';
      });
    })
    .catch(function (error) {
      container.textContent = '流程图无法显示：' + error.message;
    });
})();
