/* Demo site script: absolute origin URLs in strings, as real sites' bundles have them. */
(function () {
  'use strict';
  var SITE = {
    "home": "https:\/\/www.epochtimes.com\/gb\/",
    "feed": "https:\/\/www.epochtimes.com\/gb\/nsc412.xml",
    "latest": "https://www.epochtimes.com/gb/latest",
    "logo": "https:\/\/i.epochtimes.com\/assets\/logo.png",
    "cdn": "//i.epochtimes.com/assets/uploads/2021/03/"
  };

  // Lazy images: <img data-src="…"> gets its real src once the script runs.
  var lazy = document.querySelectorAll('img[data-src]');
  for (var i = 0; i < lazy.length; i++) {
    lazy[i].src = lazy[i].getAttribute('data-src');
    lazy[i].removeAttribute('data-src');
  }

  // A box of links built from the strings above: on the mirror they must point at the mirror too.
  var box = document.getElementById('js-box');
  if (box) {
    box.innerHTML =
      '由脚本生成的链接：' +
      '<a href="' + SITE.home + '">首页</a> · ' +
      '<a href="' + SITE.feed + '">RSS</a> · ' +
      '<a href="' + SITE.latest + '">最新文章</a> · ' +
      '<img src="' + SITE.cdn + 'icon-rss.svg" alt="" width="16" height="16" style="vertical-align:middle">';
  }
})();
